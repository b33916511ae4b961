import { BandwidthEstimator, type EstimatorOptions } from '../../../src/media/congestion/bandwidth-estimator.js';
import { Pacer, type PacerClock } from '../../../src/media/congestion/pacer.js';
import { prng } from '../../helpers/prng.js';

/**
 * One viewer's path, simulated in 1 ms steps: a 30 fps encoder whose bitrate follows the estimate (up to a
 * ceiling), an optional pacer, a bottleneck FIFO with a rate that may change over time and a drop-tail
 * limit (what tbf does in the network lab), propagation delay and random loss, and a receiver that sends
 * TWCC-style feedback every 100 ms and a receiver report every second.
 */
export interface LinkScenario {
  durationMs: number;
  /** Bottleneck rate (bit/s) at a time. */
  linkBps(atMs: number): number;
  oneWayMs?: number;
  /** Each packet's one-way delay varies by up to ± this much, order kept (as the lab's bridge does). */
  jitterMs?: number;
  /** Random loss, 0…1, applied after the bottleneck. */
  loss?: number;
  /** Drop-tail limit of the bottleneck queue, in ms at the current rate. */
  queueLimitMs?: number;
  ceilingBps: number;
  /** The first frame is this many times an average frame (the join's keyframe). */
  keyframeScale?: number;
  paced?: boolean;
  /**
   * The encoder follows the estimate this late: the server sets bitrates on a 250 ms tick and a real encoder
   * takes a while to change its output (in the lab a join on 1 Mbit/s still sent ~3.9 Mbit/s 2 s in).
   */
  encoderLagMs?: number;
  estimator?: Partial<EstimatorOptions>;
  /** Another estimator to drive instead of ours (to measure werift's against the same link). */
  makeEstimator?(now: () => number, initialBps: number): SimulatedEstimator;
  /**
   * Lost packets still arrive this much later, under their first transport-wide number: werift's NACK
   * retransmission re-sends the cached packet with its original extension (docs/rate-control.md).
   */
  retransmitAfterMs?: number;
  /**
   * A loaded sender, descheduled for `forMs` every `everyMs`: nothing is stamped meanwhile, and what was
   * stamped in the last few ms before the stall enters the link only at its end (werift is handed the packet
   * and the datagram leaves later in the same turn of the event loop), as the network lab showed.
   */
  senderStalls?: { everyMs: number; forMs: number };
  /**
   * A loaded receiver (or the lab's user-space bridge) descheduled for `forMs` every `everyMs`: what arrives
   * meanwhile is stamped together when it runs again.
   */
  receiverStalls?: { everyMs: number; forMs: number };
  /** Seed of the loss and jitter draws: a run repeats exactly. */
  seed?: number;
}

/** What the simulation needs from an estimator. */
export type SimulatedEstimator = Pick<BandwidthEstimator, 'onPacketSent' | 'onTwccFeedback' | 'onReceiverReport'> & {
  estimate(): { bps: number };
};

export interface Sample {
  atMs: number;
  estimateBps: number;
  encoderBps: number;
  /** How long a packet entering the bottleneck now would wait. */
  queueMs: number;
}

const FRAME_MS = 1000 / 30;
const PACKET_BYTES = 1200;
const FEEDBACK_MS = 100;
const STAMPED_BEFORE_STALL_MS = 3;
/** The encoder runs at this share of the estimate: audio and RTCP use the rest. */
const ENCODER_SHARE = 0.85;

interface InFlight {
  seq: number;
  bytes: number;
}

export function simulate(scenario: LinkScenario): Sample[] {
  const oneWayMs = scenario.oneWayMs ?? 20;
  const queueLimitMs = scenario.queueLimitMs ?? 200;
  let now = 0;
  const random = prng(scenario.seed ?? 1);
  const timers: { atMs: number; callback: () => void; cancelled: boolean }[] = [];
  const clock: PacerClock = {
    now: () => now,
    schedule(delayMs, callback) {
      const timer = { atMs: now + delayMs, callback, cancelled: false };
      timers.push(timer);
      return () => (timer.cancelled = true);
    },
  };
  const estimator: SimulatedEstimator =
    scenario.makeEstimator?.(() => now, scenario.ceilingBps) ??
    new BandwidthEstimator({
      initialBps: scenario.ceilingBps,
      minBps: 100_000,
      maxBps: scenario.ceilingBps * 2,
      now: () => now,
      ...scenario.estimator,
    });

  const queue: InFlight[] = [];
  let queuedBytes = 0;
  let serviceBytes = 0;
  const arrivals: { atMs: number; seq: number }[] = [];
  const received = new Map<number, number>();
  const feedbacks: { atMs: number; results: { seq: number; receivedAtMs: number | null }[] }[] = [];
  let nextSeq = 0;
  let reportedUpTo = -1;
  let highestReceived = -1;
  let lastArrivalMs = -Infinity;
  let lostSinceReport = 0;
  const retransmitted: { atMs: number; seq: number }[] = [];
  const repaired: { seq: number; receivedAtMs: number }[] = [];
  const stalls = scenario.receiverStalls;
  /** When the receiver stamps an arrival: at once, or at the end of the stall it fell into. */
  const stamp = (atMs: number): number => {
    if (!stalls) return atMs;
    const intoPeriod = atMs % stalls.everyMs;
    return intoPeriod < stalls.forMs ? atMs - intoPeriod + stalls.forMs : atMs;
  };
  let packetsSinceReport = 0;

  const held: InFlight[] = [];
  const sender = scenario.senderStalls;
  /** Where `atMs` is in the sender's stall cycle: inside a stall, or about to enter one. */
  const stallEndsAt = (atMs: number): number | undefined => {
    if (!sender) return undefined;
    const untilNext = sender.everyMs - (atMs % sender.everyMs);
    if (atMs % sender.everyMs < sender.forMs) return atMs - (atMs % sender.everyMs) + sender.forMs;
    return untilNext <= STAMPED_BEFORE_STALL_MS ? atMs + untilNext + sender.forMs : undefined;
  };
  const enter = (packet: InFlight): void => {
    const limitBytes = (scenario.linkBps(now) / 8 / 1000) * queueLimitMs;
    if (queuedBytes + packet.bytes > limitBytes) return; // tail drop
    queue.push(packet);
    queuedBytes += packet.bytes;
  };
  const late: { atMs: number; packet: InFlight }[] = [];
  const transmit = (packet: InFlight): void => {
    const endsAt = stallEndsAt(now);
    if (endsAt !== undefined && now % sender!.everyMs < sender!.forMs) {
      held.push(packet); // descheduled: sent (and stamped) when it runs again
      return;
    }
    estimator.onPacketSent(packet.seq & 0xffff, packet.bytes, now);
    if (endsAt === undefined && late.length === 0) enter(packet);
    else late.push({ atMs: endsAt ?? now, packet });
  };
  const pacer = new Pacer<InFlight>(scenario.ceilingBps, transmit, clock);
  let encoderBps = scenario.ceilingBps;
  let nextFrameAt = 0;
  let frames = 0;
  const samples: Sample[] = [];

  const estimates: number[] = [];
  for (now = 0; now < scenario.durationMs; now++) {
    estimates.push(estimator.estimate().bps);
    const followed = estimates[Math.max(0, now - (scenario.encoderLagMs ?? 0))]!;
    encoderBps = Math.min(scenario.ceilingBps, followed * ENCODER_SHARE);
    pacer.setTargetBitrate(encoderBps);
    if (now >= nextFrameAt) {
      const scale = frames === 0 ? (scenario.keyframeScale ?? 1) : 1;
      let bytes = Math.round(((encoderBps / 8) * FRAME_MS * scale) / 1000);
      while (bytes > 0) {
        const packet = { seq: nextSeq++, bytes: Math.min(bytes, PACKET_BYTES) };
        bytes -= packet.bytes;
        if (scenario.paced) pacer.enqueue(packet, packet.bytes);
        else transmit(packet);
      }
      frames++;
      nextFrameAt += FRAME_MS;
    }
    // Packets leave in order: one that leaves late holds back those behind it.
    while (late.length > 0 && late[0]!.atMs <= now) enter(late.shift()!.packet);
    if (held.length > 0 && stallEndsAt(now) === undefined) for (const packet of held.splice(0)) transmit(packet);
    for (const timer of timers.filter((t) => t.atMs <= now)) {
      timers.splice(timers.indexOf(timer), 1);
      if (!timer.cancelled) timer.callback();
    }

    serviceBytes = Math.min(serviceBytes + scenario.linkBps(now) / 8 / 1000, Math.max(PACKET_BYTES, queuedBytes));
    while (queue.length > 0 && serviceBytes >= queue[0]!.bytes) {
      const packet = queue.shift()!;
      queuedBytes -= packet.bytes;
      serviceBytes -= packet.bytes;
      packetsSinceReport++;
      if (random() < (scenario.loss ?? 0)) {
        lostSinceReport++;
        if (scenario.retransmitAfterMs !== undefined) {
          retransmitted.push({ atMs: now + oneWayMs + scenario.retransmitAfterMs, seq: packet.seq });
        }
        continue;
      }
      const jitterMs = (scenario.jitterMs ?? 0) * (2 * random() - 1);
      lastArrivalMs = Math.max(now + oneWayMs + jitterMs, lastArrivalMs);
      arrivals.push({ atMs: lastArrivalMs, seq: packet.seq });
    }
    while (retransmitted.length > 0 && retransmitted[0]!.atMs <= now) {
      const arrival = retransmitted.shift()!;
      // Chromium reports a packet that arrives after a feedback called it missing again, as received (its
      // feedback window moves back to it); one repaired before that is simply received late.
      if (arrival.seq <= reportedUpTo) repaired.push({ seq: arrival.seq, receivedAtMs: stamp(now) });
      else received.set(arrival.seq, stamp(now));
    }
    if (queue.length === 0) serviceBytes = 0;

    while (arrivals.length > 0 && arrivals[0]!.atMs <= now) {
      const arrival = arrivals.shift()!;
      received.set(arrival.seq, stamp(arrival.atMs));
      highestReceived = Math.max(highestReceived, arrival.seq);
    }
    if (now % FEEDBACK_MS === 0 && highestReceived > reportedUpTo) {
      const results: { seq: number; receivedAtMs: number | null }[] = repaired.splice(0).map((r) => ({ seq: r.seq & 0xffff, receivedAtMs: r.receivedAtMs }));
      for (let seq = reportedUpTo + 1; seq <= highestReceived; seq++) {
        results.push({ seq: seq & 0xffff, receivedAtMs: received.get(seq) ?? null });
        received.delete(seq);
      }
      reportedUpTo = highestReceived;
      feedbacks.push({ atMs: now + oneWayMs, results });
    }
    while (feedbacks.length > 0 && feedbacks[0]!.atMs <= now) estimator.onTwccFeedback(feedbacks.shift()!.results);
    if (now % 1000 === 999 && packetsSinceReport > 0) {
      estimator.onReceiverReport(lostSinceReport / packetsSinceReport, 2 * oneWayMs + (queuedBytes * 8 * 1000) / scenario.linkBps(now));
      lostSinceReport = 0;
      packetsSinceReport = 0;
    }
    if (now % 50 === 0) {
      samples.push({
        atMs: now,
        estimateBps: estimator.estimate().bps,
        encoderBps,
        queueMs: (queuedBytes * 8 * 1000) / scenario.linkBps(now),
      });
    }
  }
  pacer.close();
  return samples;
}

/** Samples with atMs in [fromMs, toMs). */
export function between(samples: readonly Sample[], fromMs: number, toMs: number): Sample[] {
  return samples.filter((s) => s.atMs >= fromMs && s.atMs < toMs);
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
