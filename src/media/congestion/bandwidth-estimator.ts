import { DelayTrend, STANDING_RECENT_MS, type BandwidthUsage } from './delay-trend.js';
import { LossControl } from './loss-control.js';
import { RateWindow } from './rate-window.js';

/**
 * How much one viewer's path can carry, estimated on the sender from what the browser reports: transport-wide
 * CC feedback (per-packet arrival times) drives a delay-based AIMD controller, capped by a loss-based one; a
 * browser that only sends REMB gets its REMB, capped the same way by the loss its receiver reports give.
 * Fed plain numbers and an injected clock, so a simulated link can drive it (docs/rate-control.md).
 */
export interface EstimatorOptions {
  /** Where the estimate starts: the ceiling, so a good link shows full quality from the first frame. */
  initialBps: number;
  minBps: number;
  maxBps: number;
  /**
   * From the first packet, how long delay growth (and, without TWCC, a lower REMB) is not taken for
   * congestion: the join's keyframe is a burst several times the average rate, and the queue it builds
   * on a good link empties again. Loss over 10 % is believed at once.
   */
  startPhaseMs?: number;
  now(): number;
  /** Called after every input that may have changed the estimate. */
  onEstimate?(estimate: BandwidthEstimate): void;
}

export interface BandwidthEstimate {
  /** What the viewer's video and audio together may use now. */
  bps: number;
  delayBasedBps: number;
  lossBasedBps: number;
  rembBps: number | null;
  /** Which feedback drives the estimate: TWCC when the browser sends it, else REMB, else none yet. */
  source: 'twcc' | 'remb' | 'none';
  usage: BandwidthUsage;
  /** Share of packets lost (TWCC's recent window, or the last receiver report). */
  lossFraction: number;
  rttMs: number | null;
  /** Rate at which the browser received our packets (TWCC), bit/s. */
  ackedBps: number | null;
  sentBps: number | null;
  inStartPhase: boolean;
}

const DEFAULT_START_PHASE_MS = 2000;
/** GCC's multiplicative decrease, applied to the rate the browser actually received. */
const BACKOFF = 0.85;
/** The deepest single decrease, as a share of the estimate before it. */
const MAX_DECREASE = 0.5;
/**
 * Growth per second far from the last congestion. libwebrtc's 8 %/s relies on probing bursts to find
 * a returned link fast; without probing, 20 %/s is what brings 0.8 → 2.5 Mbit/s back within ~7 s.
 */
const INCREASE_PER_SECOND = 0.2;
/**
 * Growth once no congestion has been met for a while and none is remembered nearby (the link came back, or
 * was never found): a stand-in for libwebrtc's probing, which finds a returned link in a few round trips. In
 * the lab 0.35 → 2.5 Mbit/s took ~12–15 s at 20 %/s; the goal is 10 s.
 */
const FAST_INCREASE_PER_SECOND = 0.4;
const FAST_AFTER_MS = 2000;
/** Near the rate of the last congestion, growth is about one packet per response time instead. */
const ADDITIVE_PACKET_BITS = 1200 * 8;
/** A queue that stays this full (delay-trend.ts, standingQueueMs) is overuse even while its delay is flat. */
const STANDING_QUEUE_MS = 60;
/** Never more than this much above what the browser shows it receives: an unproven rate. */
const MAX_OVER_ACKED = 1.5;
/**
 * The same bound while the path delivers all that is sent and no congestion is remembered: the encoder, not the
 * link, is what limits the received rate then (x264 sends ~0.8 × its target on the lab's painter), and 1.5 × that
 * held the climb after `congested`'s return to ~2 %/tick (full bitrate 10.4–11 s after it, goal 10).
 */
const MAX_OVER_ACKED_APP_LIMITED = 2;
/** Received at least this share of what was sent: the path held nothing back. */
const DELIVERED_ALL = 0.95;
/** At the end of the start phase, received under this share of what was sent means the path held it back. */
const HELD_BACK = 0.8;
/** Loss during the start phase that means the join overflowed the path's queue, once this many packets were reported. */
const START_LOSS = 0.02;
const MIN_START_PACKETS = 50;
/** TWCC counts as the source while a feedback came this recently; otherwise REMB (if any) is used. */
const TWCC_STALE_MS = 2000;
/** Sent packets remembered for feedback; TWCC reports within ~100 ms, so this is seconds of video. */
const SENT_HISTORY = 4096;
const ACKED_WINDOW_MS = 500;
/**
 * What the browser received over the newest feedback only: under heavy loss the link just got narrower, and
 * the 500 ms window still holds the time before it (the lab's congested drop: 0.85 × that window cut 2.5
 * Mbit/s to ~1.5, and the next cut waited a round trip).
 */
const RECENT_ACKED_WINDOW_MS = 250;
const SENT_WINDOW_MS = 1000;

interface SentPacket {
  sizeBytes: number;
  sentAtMs: number;
  outcome?: 'acked' | 'lost';
}

export class BandwidthEstimator {
  private readonly sent = new Map<number, SentPacket>();
  private readonly delay = new DelayTrend();
  private readonly loss: LossControl;
  private readonly acked = new RateWindow(ACKED_WINDOW_MS);
  private readonly recentAcked = new RateWindow(RECENT_ACKED_WINDOW_MS);
  private readonly sentRate = new RateWindow(SENT_WINDOW_MS);
  private readonly startPhaseMs: number;
  private delayBps: number;
  private rembBps: number | null = null;
  private rttMs: number | null = null;
  private reportedLoss = 0;
  /** The first packet sent or feedback heard: where the start phase begins. */
  private startedAtMs: number | undefined;
  private startPhaseSettled = false;
  /** Packets reported, and of them lost, during the start phase. */
  private readonly startLoss = { lost: 0, total: 0 };
  private lastTwccAtMs = -Infinity;
  private lastUpdateMs: number | undefined;
  private lastDecreaseMs = -Infinity;
  /** Received rate at recent decreases: where the link's capacity was last seen. */
  private capacity: { meanBps: number; deviationBps: number } | undefined;

  constructor(private readonly options: EstimatorOptions) {
    this.startPhaseMs = options.startPhaseMs ?? DEFAULT_START_PHASE_MS;
    this.delayBps = options.initialBps;
    this.loss = new LossControl(options.initialBps);
  }

  /** A packet left for this viewer with transport-wide sequence number `seq` (16 bits); `sentAtMs` on `now()`'s clock. */
  onPacketSent(seq: number, sizeBytes: number, sentAtMs: number): void {
    this.startedAtMs ??= sentAtMs;
    this.sent.delete(seq);
    this.sent.set(seq, { sizeBytes, sentAtMs });
    if (this.sent.size > SENT_HISTORY) this.sent.delete(this.sent.keys().next().value!);
    this.sentRate.add(sentAtMs, sizeBytes);
  }

  onTwccFeedback(results: readonly { seq: number; receivedAtMs: number | null }[]): void {
    const now = this.options.now();
    let lost = 0;
    let total = 0;
    const arrived: { sentAtMs: number; receivedAtMs: number }[] = [];
    for (const result of results) {
      const packet = this.sent.get(result.seq);
      if (!packet || packet.outcome === 'acked') continue;
      if (result.receivedAtMs === null) {
        if (packet.outcome === 'lost') continue;
        packet.outcome = 'lost';
        lost++;
        total++;
        continue;
      }
      this.acked.add(result.receivedAtMs, packet.sizeBytes);
      this.recentAcked.add(result.receivedAtMs, packet.sizeBytes);
      // One reported missing before and received now was late; its loss stays counted (it cost a NACK). It is
      // most likely werift's retransmission, which carries the original transport-wide number: its send time
      // is not the one we have, and fed to the delay side it read as a queue of one RTT (the lab's dsl link,
      // 0.2 % loss, cut the estimate from 4.3 to 2.2 Mbit/s on one such packet).
      if (packet.outcome !== 'lost') arrived.push({ sentAtMs: packet.sentAtMs, receivedAtMs: result.receivedAtMs });
      if (packet.outcome !== 'lost') total++;
      packet.outcome = 'acked';
    }
    // In arrival order, as libwebrtc feeds its delay estimator: a packet that arrives after packets sent later
    // (reordered, or retransmitted under its first number before the browser reported it missing) then has a
    // send time before its group's and is skipped, instead of reading as a one-off jump in delay.
    arrived.sort((a, b) => a.receivedAtMs - b.receivedAtMs);
    for (const packet of arrived) this.delay.add(packet);
    if (total === 0) return;
    if (!this.startPhaseSettled) {
      this.startLoss.lost += lost;
      this.startLoss.total += total;
    }
    this.lastTwccAtMs = now;
    this.loss.report(now, lost, total);
    this.updateDelayBased(now);
    this.loss.step(now, this.lossBounds(this.delayBps));
    this.emit();
  }

  /** A REMB's bitrate (bit/s). Used when the browser sends no TWCC feedback. */
  onRemb(bps: number): void {
    if (!Number.isFinite(bps) || bps <= 0) return;
    const now = this.options.now();
    // Without transport-cc no packet is numbered: the first REMB starts the start phase.
    this.startedAtMs ??= now;
    const lower = this.rembBps !== null && bps < this.rembBps;
    // Chromium's REMB dips after the join's keyframe although nothing is lost; believed there only with loss.
    if (lower && this.inStartPhase(now, 'remb') && this.reportedLoss < 0.02) return;
    this.rembBps = bps;
    // Without TWCC the loss controller steps with each REMB (~5/s), not only with each receiver report (~1/s).
    if (this.source(now) === 'remb') this.loss.step(now, this.lossBounds(bps));
    this.emit();
  }

  /** From an RTCP receiver report about our stream: fraction lost (0…1) and round-trip time. */
  onReceiverReport(fractionLost: number, rttMs: number | null): void {
    const now = this.options.now();
    this.startedAtMs ??= now;
    if (rttMs !== null && Number.isFinite(rttMs) && rttMs >= 0) this.rttMs = rttMs;
    if (!Number.isFinite(fractionLost)) return;
    this.reportedLoss = Math.min(Math.max(fractionLost, 0), 1);
    // With TWCC the per-packet reports are fresher; a receiver report is the loss signal only without it.
    if (this.source(now) === 'twcc') return;
    const scale = 1000;
    this.loss.report(now, Math.round(this.reportedLoss * scale), scale);
    this.loss.step(now, this.lossBounds(this.rembBps ?? this.delayBps));
    this.emit();
  }

  estimate(): BandwidthEstimate {
    const now = this.options.now();
    const source = this.source(now);
    const base = source === 'remb' && this.rembBps !== null ? this.rembBps : this.delayBps;
    const bps = Math.min(Math.max(Math.min(base, this.loss.bps), this.options.minBps), this.options.maxBps);
    return {
      bps: Math.round(bps),
      delayBasedBps: Math.round(this.delayBps),
      lossBasedBps: Math.round(this.loss.bps),
      rembBps: this.rembBps,
      source,
      usage: this.delay.state.usage,
      lossFraction: source === 'twcc' ? this.loss.fraction : this.reportedLoss,
      rttMs: this.rttMs,
      ackedBps: roundOrNull(this.acked.bps()),
      sentBps: roundOrNull(this.sentRate.bps(now)),
      inStartPhase: this.inStartPhase(now, source === 'remb' ? 'remb' : 'twcc'),
    };
  }

  private source(now: number): BandwidthEstimate['source'] {
    if (now - this.lastTwccAtMs <= TWCC_STALE_MS) return 'twcc';
    return this.rembBps !== null ? 'remb' : 'none';
  }

  private inStartPhase(now: number, source: 'twcc' | 'remb'): boolean {
    if (this.startedAtMs === undefined) return true;
    // REMB reacts to the join later and recovers slower than TWCC (measured ~8 %/s): a longer grace.
    const length = source === 'remb' ? this.startPhaseMs * 2.5 : this.startPhaseMs;
    return now - this.startedAtMs < length;
  }

  /** The loss side stays under `ceilingBps`; a decrease never goes below what the path is seen to deliver. */
  private lossBounds(ceilingBps: number): { ceilingBps: number; floorBps: number; measured: boolean; rttMs: number | null } {
    const ackedBps = this.deliveredBps();
    const floorBps = Math.max(this.options.minBps, ackedBps === null ? 0 : BACKOFF * ackedBps);
    return { ceilingBps, floorBps, measured: ackedBps !== null, rttMs: this.rttMs };
  }

  /** What the path delivers: the newest feedback's rate under heavy loss, when lower (RECENT_ACKED_WINDOW_MS). */
  private deliveredBps(): number | null {
    const ackedBps = this.acked.bps();
    const recentBps = this.recentAcked.bps();
    if (!this.loss.heavy || ackedBps === null || recentBps === null) return ackedBps;
    return Math.min(ackedBps, recentBps);
  }

  private updateDelayBased(now: number): void {
    const usage = this.delay.state.usage;
    const ackedBps = this.deliveredBps();
    const elapsedMs = Math.min(now - (this.lastUpdateMs ?? now), 1000);
    this.lastUpdateMs = now;
    if (this.inStartPhase(now, 'twcc')) return;
    if (!this.startPhaseSettled) {
      this.startPhaseSettled = true;
      // The start rate was a guess. When the path held back what was sent, or the join overflowed its queue
      // (loss), what the browser received is the path's rate and the queue the join filled is still full:
      // back off under it as a decrease would, so that it drains. Left full (the lab's narrow link, cut to
      // 1.5 × received instead), it has flat delay and 2–10 % loss, which neither side reacts to, and the
      // delay side never sees the empty queue it measures a standing one from. A sender that simply sent
      // little (an encoder still starting, five viewers joining a loaded machine at once) proves nothing
      // about the path, and was cut to the minimum.
      const sentBps = this.sentRate.bps(now);
      const overflowed = this.startLoss.total >= MIN_START_PACKETS && this.startLoss.lost >= START_LOSS * this.startLoss.total;
      const heldBack = ackedBps !== null && (overflowed || (sentBps !== null && ackedBps < HELD_BACK * sentBps));
      if (heldBack) {
        this.delayBps = Math.min(this.delayBps, BACKOFF * ackedBps);
        this.lastDecreaseMs = now;
        this.learnCapacity(ackedBps);
      }
    }
    if (usage === 'overusing' || this.standingQueue(now)) this.decrease(now, ackedBps);
    else if (usage === 'normal') this.increase(now, elapsedMs, ackedBps);
    this.delayBps = Math.min(Math.max(this.delayBps, this.options.minBps), this.options.maxBps);
  }

  /** A queue that stays full; after a decrease, only once the measure no longer covers the time before it. */
  private standingQueue(now: number): boolean {
    return this.delay.standingQueueMs >= STANDING_QUEUE_MS && now - this.lastDecreaseMs >= STANDING_RECENT_MS + (this.rttMs ?? 0);
  }

  private decrease(now: number, ackedBps: number | null): void {
    // One decrease per round trip: the feedback after it still shows the queue it is draining.
    if (now - this.lastDecreaseMs < Math.max(this.rttMs ?? 0, 200)) return;
    // At most a halving per decrease: the acknowledged rate of one 500 ms window can read far under the link
    // when the sender is application-limited or the path delivers in bursts (measured in the network lab:
    // windows of 80 to 970 kbit/s on a 1 Mbit/s link), and one such window would cut the estimate to a quarter.
    const deepest = this.loss.heavy ? 0 : MAX_DECREASE * this.delayBps;
    const target = Math.max(BACKOFF * (ackedBps ?? this.delayBps), deepest);
    if (target >= this.delayBps) return;
    this.delayBps = target;
    this.lastDecreaseMs = now;
    // The capacity is learnt from the 500 ms window even under heavy loss: the newest 250 ms is noisier, and
    // a capacity learnt low let the estimate grow multiplicatively past the link again (the lab's sawtooth).
    const learntBps = this.acked.bps() ?? ackedBps;
    if (learntBps !== null) this.learnCapacity(learntBps);
  }

  private increase(now: number, elapsedMs: number, ackedBps: number | null): void {
    const fast = this.capacity === undefined && now - this.lastDecreaseMs >= FAST_AFTER_MS;
    let next = this.delayBps * (1 + (fast ? FAST_INCREASE_PER_SECOND : INCREASE_PER_SECOND)) ** (elapsedMs / 1000);
    if (this.capacity) {
      const band = capacityBand(this.capacity);
      if (this.delayBps > this.capacity.meanBps + band) {
        // Past where congestion was last seen without meeting it: the link got better, that capacity is history.
        this.capacity = undefined;
      } else if (this.delayBps >= this.capacity.meanBps - band) {
        // Close to it: creep up by about a packet per response time rather than overshoot again.
        const responseMs = 100 + (this.rttMs ?? 100);
        next = this.delayBps + Math.max(1000, (ADDITIVE_PACKET_BITS * elapsedMs) / responseMs);
      }
    }
    if (ackedBps !== null) {
      const sentBps = this.sentRate.bps(now);
      const appLimited = !this.capacity && sentBps !== null && ackedBps >= DELIVERED_ALL * sentBps;
      next = Math.min(next, (appLimited ? MAX_OVER_ACKED_APP_LIMITED : MAX_OVER_ACKED) * ackedBps + 10_000);
    }
    this.delayBps = Math.max(this.delayBps, next);
  }

  private learnCapacity(ackedBps: number): void {
    const band = this.capacity ? capacityBand(this.capacity) : 0;
    // Congested well below where it was last: the link got worse, and the old capacity would only mislead.
    if (!this.capacity || ackedBps < this.capacity.meanBps - band) {
      this.capacity = { meanBps: ackedBps, deviationBps: 0.03 * ackedBps };
      return;
    }
    const alpha = 0.05;
    const error = ackedBps - this.capacity.meanBps;
    this.capacity.meanBps += alpha * error;
    this.capacity.deviationBps = (1 - alpha) * this.capacity.deviationBps + alpha * Math.abs(error);
  }

  private emit(): void {
    this.options.onEstimate?.(this.estimate());
  }
}

function roundOrNull(value: number | null): number | null {
  return value === null ? null : Math.round(value);
}

/** How far from the last congestion's received rate still counts as near it. */
function capacityBand(capacity: { meanBps: number; deviationBps: number }): number {
  return Math.max(2 * capacity.deviationBps, 0.05 * capacity.meanBps);
}
