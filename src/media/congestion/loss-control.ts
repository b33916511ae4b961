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

  constructor(public bps: number) {}

  /** Counts of one feedback (TWCC) or one receiver report, turned into packets (lost of total). */
  report(nowMs: number, lost: number, total: number): void {
    if (total <= 0) return;
    this.reports.push({ atMs: nowMs, lost, total });
    while (this.reports.length > 0 && this.reports[0]!.atMs <= nowMs - WINDOW_MS) this.reports.shift();
    const share = lossShare(this.reports);
    if (share !== undefined) this.fraction = share;
  }

  /**
   * One control step: never above `ceilingBps` (the delay-based estimate), so it cannot run away, and a
   * decrease never below `floorBps` (what the path is seen to deliver). `rttMs` spaces decreases.
   */
  step(nowMs: number, bounds: { ceilingBps: number; floorBps: number; rttMs: number | null }): void {
    // Decisions on the feedback since the last decrease only: the loss before it was already answered.
    const fresh = this.reports.filter((r) => r.atMs > this.lastDecreaseMs);
    const fraction = this.lastDecreaseMs === -Infinity ? this.fraction : lossShare(fresh);
    if (fraction !== undefined && nowMs - this.lastStepMs >= STEP_MS) {
      if (fraction < INCREASE_BELOW) {
        this.bps *= INCREASE_FACTOR;
        this.lastStepMs = nowMs;
      } else if (fraction > DECREASE_ABOVE && nowMs - this.lastDecreaseMs >= DECREASE_INTERVAL_MS + (bounds.rttMs ?? 0)) {
        const decreased = this.bps * (1 - 0.5 * fraction);
        if (decreased < this.bps) this.bps = Math.max(decreased, Math.min(bounds.floorBps, this.bps));
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
