/**
 * The loss-based half of the estimator (draft-ietf-rmcat-gcc-02 §6, as Pion and rtpgccbwe do it): under 2 %
 * loss the rate may grow 5 % per step, over 10 % it shrinks by half the loss, in between it holds — so the
 * random loss of a radio link (the `mobile` profile's 2 %) neither pushes it up nor pulls it down, and only
 * loss that looks like a full queue does.
 */

const INCREASE_BELOW = 0.02;
const DECREASE_ABOVE = 0.1;
const INCREASE_FACTOR = 1.05;
const STEP_MS = 200;
/** Loss is judged over this much recent feedback, and not before this many packets were reported. */
const WINDOW_MS = 1000;
const MIN_PACKETS = 20;

export class LossControl {
  private readonly reports: { atMs: number; lost: number; total: number }[] = [];
  private lastStepMs = -Infinity;
  fraction = 0;

  constructor(public bps: number) {}

  /** Counts of one feedback (TWCC) or one receiver report, turned into packets (lost of total). */
  report(nowMs: number, lost: number, total: number): void {
    if (total <= 0) return;
    this.reports.push({ atMs: nowMs, lost, total });
    while (this.reports.length > 0 && this.reports[0]!.atMs <= nowMs - WINDOW_MS) this.reports.shift();
    const sum = this.reports.reduce((acc, r) => ({ lost: acc.lost + r.lost, total: acc.total + r.total }), { lost: 0, total: 0 });
    if (sum.total < MIN_PACKETS) return;
    this.fraction = Math.max(0, sum.lost) / sum.total;
  }

  /** One control step: never above `ceilingBps` (the delay-based estimate), so it cannot run away. */
  step(nowMs: number, ceilingBps: number): void {
    if (nowMs - this.lastStepMs >= STEP_MS) {
      if (this.fraction < INCREASE_BELOW) {
        this.bps *= INCREASE_FACTOR;
        this.lastStepMs = nowMs;
      } else if (this.fraction > DECREASE_ABOVE) {
        this.bps *= 1 - 0.5 * this.fraction;
        this.lastStepMs = nowMs;
      }
    }
    this.bps = Math.min(this.bps, ceilingBps);
  }
}
