/**
 * The loss-based half of the estimator (draft-ietf-rmcat-gcc-02 §6, as Pion and rtpgccbwe do it): under 2 %
 * loss the rate may grow 5 % per step, over 10 % it shrinks by half the loss, in between it holds — so the
 * random loss of a radio link (the `mobile` profile's 2 %) neither pushes it up nor pulls it down, and only
 * loss that looks like a full queue does.
 *
 * Each loss episode is counted once. The network lab showed what happens otherwise: a join at 2.5 Mbit/s on a
 * 1 Mbit/s link lost ~70 % for a second, and judging the same sliding second of feedback every 200 ms took the
 * estimate from 2.5 Mbit/s to 16 kbit/s, from where +5 % per step needed ~20 s to climb back to the link. So
 * a decrease waits for feedback about packets after the previous one (libwebrtc: once per 300 ms + RTT), and
 * never goes below what the caller says the path delivers.
 */

const INCREASE_BELOW = 0.02;
const DECREASE_ABOVE = 0.1;
/**
 * Loss over this share is a link that suddenly carries far less than is sent (the lab's congested profile:
 * 2.5 Mbit/s into 800 kbit/s, ~60 % lost): the decrease goes straight to the floor (what the path delivers,
 * backed off) instead of by half the loss per step, which took three steps (~1.2 s) to get there. Only
 * when the floor was measured: without TWCC it is the minimum, and the estimate would fall to it.
 */
const HEAVY_LOSS = 0.2;
/**
 * Heavy loss is judged over this much of the newest feedback, not the whole second: a drop to a third of the
 * rate shows ~60 % loss within a few hundred ms, while the second's share still holds the good time before it.
 */
const RECENT_MS = 300;
const INCREASE_FACTOR = 1.05;
const STEP_MS = 200;
/** Between two decreases: the feedback right after one still reports the loss that caused it. */
const DECREASE_INTERVAL_MS = 300;
/** Loss is judged over this much recent feedback, and not before this many packets were reported. */
const WINDOW_MS = 1000;
const MIN_PACKETS = 20;

interface Report {
  atMs: number;
  lost: number;
  total: number;
}

export class LossControl {
  private readonly reports: Report[] = [];
  private lastStepMs = -Infinity;
  private lastDecreaseMs = -Infinity;
  /** Share lost over the recent window, what the stats show. */
  fraction = 0;
  /** Share lost over the newest RECENT_MS of feedback (undefined: too few packets). */
  recentFraction: number | undefined;

  constructor(public bps: number) {}

  /** Counts of one feedback (TWCC) or one receiver report, turned into packets (lost of total). */
  report(nowMs: number, lost: number, total: number): void {
    if (total <= 0) return;
    this.reports.push({ atMs: nowMs, lost, total });
    while (this.reports.length > 0 && this.reports[0]!.atMs <= nowMs - WINDOW_MS) this.reports.shift();
    const share = lossShare(this.reports);
    if (share !== undefined) this.fraction = share;
    this.recentFraction = lossShare(this.reports.filter((r) => r.atMs > nowMs - RECENT_MS));
  }

  /** Whether the newest feedback shows heavy loss: a link that suddenly carries far less than is sent. */
  get heavy(): boolean {
    return (this.recentFraction ?? 0) > HEAVY_LOSS;
  }

  /**
   * One control step: never above `ceilingBps` (the delay-based estimate), so it cannot run away, and a
   * decrease never below `floorBps` (what the path is seen to deliver; `measured` when it is, from TWCC,
   * rather than the minimum). `rttMs` spaces decreases.
   */
  step(nowMs: number, bounds: { ceilingBps: number; floorBps: number; measured?: boolean; rttMs: number | null }): void {
    // Decisions on the feedback since the last decrease only: the loss before it was already answered.
    const fresh = this.reports.filter((r) => r.atMs > this.lastDecreaseMs);
    const answered = this.lastDecreaseMs === -Infinity ? this.fraction : lossShare(fresh);
    // Heavy loss in the newest feedback is a decrease now, even while the second's share is still low.
    const heavy = this.heavy && bounds.measured === true && this.reports.at(-1)!.atMs > this.lastDecreaseMs;
    const fraction = heavy ? Math.max(answered ?? 0, this.recentFraction!) : answered;
    if (fraction !== undefined && (heavy || nowMs - this.lastStepMs >= STEP_MS)) {
      if (fraction < INCREASE_BELOW) {
        this.bps *= INCREASE_FACTOR;
        this.lastStepMs = nowMs;
      } else if (fraction > DECREASE_ABOVE && nowMs - this.lastDecreaseMs >= DECREASE_INTERVAL_MS + (bounds.rttMs ?? 0)) {
        const decreased = this.bps * (1 - 0.5 * fraction);
        const target = heavy ? Math.min(decreased, bounds.floorBps) : decreased;
        if (target < this.bps) this.bps = Math.max(target, Math.min(bounds.floorBps, this.bps));
        this.lastStepMs = nowMs;
        this.lastDecreaseMs = nowMs;
      }
    }
    this.bps = Math.min(this.bps, bounds.ceilingBps);
  }
}

function lossShare(reports: readonly Report[]): number | undefined {
  let lost = 0;
  let total = 0;
  for (const r of reports) {
    lost += r.lost;
    total += r.total;
  }
  return total < MIN_PACKETS ? undefined : Math.max(0, lost) / total;
}
