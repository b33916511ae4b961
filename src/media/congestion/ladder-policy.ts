/**
 * Which encoder each viewer of one source watches, and at what bitrate each encoder runs. Encodes are
 * shared (one per rung, not one per viewer), so a viewer's link may only lower the picture of viewers on
 * its own rung: one with a worse link moves down instead (docs/rate-control.md, "The ladder").
 *
 * - `full` (the source's size and frame rate) runs at what the best viewer's estimate allows, up to the
 *   user's `--bitrate`: the top rung follows its viewers, and always has the best one.
 * - `reduced` (same size and frame rate) runs at what its worst viewer allows, never below a floor tied to
 *   the top rung, so a bad link cannot drag it down to where the picture falls apart.
 * - `small` (half size, half frame rate) takes everyone below that floor, down to the minimum.
 *
 * Moves are ratio- and time-hysteretic: a viewer leaves a rung when the rung's bitrate exceeds its estimate,
 * joins a better one only with headroom, down after a short confirmation, up only after a longer one. A move
 * down also needs the path to back the estimate up, where the caller knows (`heldBack`): an estimate that dips
 * while all that is sent arrives is not a reason to start another encoder. A viewer that keeps sending
 * picture-loss requests for 5 s moves down a rung whatever its estimate (`pliCount`).
 * Pure: the caller feeds estimates and the clock, and applies the decisions.
 */

export const RUNGS = ['full', 'reduced', 'small'] as const;
export type RungName = (typeof RUNGS)[number];
/** Picture of a rung relative to the source. */
export const RUNG_SHAPE: Record<RungName, { sizeScale: number; fpsScale: number }> = {
  full: { sizeScale: 1, fpsScale: 1 },
  reduced: { sizeScale: 1, fpsScale: 1 },
  small: { sizeScale: 0.5, fpsScale: 0.5 },
};

export interface LadderOptions {
  /** The user's --bitrate: no rung runs above it. */
  ceilingBps: number;
  /** The lowest bitrate of the `small` rung. */
  minBps?: number;
  /** `reduced` never goes below this share of the top rung's bitrate (nor below `reducedMinBps`). */
  reducedFloorRatio?: number;
  reducedMinBps?: number;
  /** Taken off a viewer's estimate before anything else: audio, RTCP and retransmissions. */
  reserveBps?: number;
  /** A rung's bitrate is at most this share of the estimate of the viewer that sets it. */
  headroom?: number;
  /** To join a better rung, its bitrate must be at most this share of the viewer's estimate. */
  enterRatio?: number;
  /** A viewer stays on a rung while its bitrate is at most this share of the viewer's estimate. */
  stayRatio?: number;
  /** How long a move down must be called for before it happens. */
  downAfterMs?: number;
  /**
   * A viewer whose usable estimate is still at least this share of its rung's bitrate is a near miss: its move
   * down waits `nearMissAfterMs` instead. Found on a loaded machine, where loopback viewers' estimates dip just
   * under the ceiling for a second and would each have started another encoder.
   */
  nearMissRatio?: number;
  nearMissAfterMs?: number;
  /**
   * How long the path must have held a viewer back (`heldBack`), without a break, before it may move down. A
   * loaded host stalls a loopback browser for up to a second, and its received rate dips with its estimate;
   * a real bottleneck holds the rate down for as long as more is sent than it carries.
   */
  heldBackForMs?: number;
  /**
   * A viewer whose picture-loss requests (`pliCount`) keep coming — no gap longer than `pliGapMs` — for
   * `pliStreakMs` moves down a rung whatever its estimate says: the keyframes it asks for do not get through.
   * It then stays off better rungs for `pliHoldMs`, so that its estimate does not lift it straight back.
   */
  pliStreakMs?: number;
  pliGapMs?: number;
  pliHoldMs?: number;
  /** How long a move up must be called for, and how long since the viewer's last move. */
  upAfterMs?: number;
  /** A rung's bitrate rises at most this often (falls at once): each change costs the encoder a reconfigure. */
  raiseEveryMs?: number;
  now(): number;
}

export interface ViewerEstimate {
  id: string;
  estimateBps: number;
  /** False during the estimator's start phase: the viewer stays where it joined and sets no bitrate. */
  settled: boolean;
  /**
   * Whether the path holds back what is sent to this viewer now (it receives clearly less than it is sent, or
   * loses much of it). A move down needs it true for `heldBackForMs` while another viewer's is false (every
   * path held back at once is the host or a shared bottleneck); false restarts the move's confirmation:
   * the estimate alone dipped. On a loaded machine loopback viewers' estimates dip for seconds while everything
   * arrives, and each dip would have started another encoder. Undefined (nothing to tell by, e.g. no TWCC):
   * the estimate alone decides.
   */
  heldBack?: boolean;
  /** Picture-loss requests (PLI) from this viewer so far; undefined when not known. */
  pliCount?: number;
}

export interface RungDecision {
  name: RungName;
  /** Encoder bitrate; null when no viewer is on the rung (its encoder may stop). */
  targetBps: number | null;
  viewers: string[];
}

export interface LadderDecision {
  rungs: RungDecision[];
  /** Rung index (0 = full) of every viewer. */
  rungOf: Map<string, number>;
}

interface ViewerState {
  rung: number;
  movedAtMs: number;
  /** Since when the path has held the viewer back without a break; undefined while it does not. */
  heldBackSinceMs?: number;
  /** The last PLI count seen, when the current run of PLIs began, and when its latest PLI came. */
  plis?: { count: number; streakSinceMs?: number; lastMs?: number };
  /** No move up before this (after a move down for PLIs). */
  holdUntilMs?: number;
  wanted?: { rung: number; sinceMs: number };
}

const DEFAULTS = {
  minBps: 150_000,
  reducedFloorRatio: 0.4,
  reducedMinBps: 300_000,
  reserveBps: 80_000,
  headroom: 0.85,
  enterRatio: 0.9,
  stayRatio: 1,
  downAfterMs: 500,
  nearMissRatio: 0.8,
  nearMissAfterMs: 3000,
  heldBackForMs: 1500,
  pliStreakMs: 5000,
  pliGapMs: 1500,
  pliHoldMs: 15_000,
  upAfterMs: 3000,
  raiseEveryMs: 1000,
};

export class LadderPolicy {
  private readonly viewers = new Map<string, ViewerState>();
  private readonly targets: (number | null)[] = RUNGS.map(() => null);
  private readonly raisedAtMs: number[] = RUNGS.map(() => -Infinity);
  private readonly o: typeof DEFAULTS & LadderOptions;

  constructor(options: LadderOptions) {
    this.o = { ...DEFAULTS, ...options };
  }

  /** The ceiling changed (the user's --bitrate): takes effect at the next update. */
  setCeiling(bps: number): void {
    this.o.ceilingBps = bps;
  }

  update(estimates: readonly ViewerEstimate[]): LadderDecision {
    const now = this.o.now();
    const present = new Set(estimates.map((e) => e.id));
    for (const id of this.viewers.keys()) if (!present.has(id)) this.viewers.delete(id);
    // A viewer joins the top rung: most links carry it, and the estimator's start phase checks.
    for (const e of estimates) if (!this.viewers.has(e.id)) this.viewers.set(e.id, { rung: 0, movedAtMs: now });

    const settled = estimates.filter((e) => e.settled);
    const usable = (e: ViewerEstimate): number => Math.max(0, e.estimateBps - this.o.reserveBps);
    const best = Math.max(0, ...settled.map(usable));
    const top = settled.length > 0 ? Math.min(this.o.ceilingBps, best * this.o.headroom) : this.o.ceilingBps;
    this.setTarget(0, Math.max(top, this.o.minBps), now);
    const topBps = this.targets[0]!;
    const floor = Math.max(this.o.reducedMinBps, this.o.reducedFloorRatio * topBps);

    // A hold-back counts only while another viewer's path is clear: when every path holds back at once,
    // nothing tells the links apart — it is the host (a stalled server or browser) or a bottleneck they share,
    // and the top rung, which follows the best of them, lowers the one encode for all.
    const clear = estimates.filter((e) => e.heldBack === false).length;
    for (const e of estimates) {
      const state = this.viewers.get(e.id)!;
      if (e.heldBack === true && clear > 0) state.heldBackSinceMs ??= now;
      else delete state.heldBackSinceMs;
    }
    for (const e of settled) {
      const state = this.viewers.get(e.id)!;
      if (this.keepsLosingPictures(state, e.pliCount, now)) {
        state.rung = Math.min(state.rung + 1, RUNGS.length - 1);
        state.movedAtMs = now;
        state.holdUntilMs = now + this.o.pliHoldMs;
        delete state.wanted;
        continue;
      }
      const nearMiss = usable(e) >= this.o.nearMissRatio * (state.rung === 0 ? topBps : floor);
      const mayMoveDown = e.heldBack === undefined || (state.heldBackSinceMs !== undefined && now - state.heldBackSinceMs >= this.o.heldBackForMs);
      this.place(e.id, this.fittingRung(usable(e), state.rung, topBps, floor), now, nearMiss, mayMoveDown, e.heldBack === false);
    }

    const members = RUNGS.map((_, rung) => estimates.filter((e) => this.viewers.get(e.id)!.rung === rung));
    const lowest = (rung: number): number | undefined => {
      const values = members[rung]!.filter((e) => e.settled).map((e) => usable(e) * this.o.headroom);
      return values.length > 0 ? Math.min(...values) : undefined;
    };
    this.setTarget(1, clamp(lowest(1) ?? floor, floor, Math.max(floor, topBps)), now);
    this.setTarget(2, clamp(lowest(2) ?? this.o.minBps, this.o.minBps, floor), now);

    return {
      rungs: RUNGS.map((name, rung) => ({
        name,
        targetBps: members[rung]!.length > 0 ? Math.round(this.targets[rung]!) : null,
        viewers: members[rung]!.map((e) => e.id),
      })),
      rungOf: new Map([...this.viewers].map(([id, state]) => [id, state.rung])),
    };
  }

  /** The best rung this viewer fits, with hysteresis: staying is easier than entering. */
  private fittingRung(usableBps: number, current: number, topBps: number, floorBps: number): number {
    const fits = (rung: number, bps: number): boolean =>
      bps <= usableBps * (rung >= current ? this.o.stayRatio : this.o.enterRatio);
    if (fits(0, topBps)) return 0;
    if (fits(1, floorBps)) return 1;
    return 2;
  }

  /** `unbacked`: the path shows the viewer is not held back, so a wanted move down starts over. */
  private place(id: string, rung: number, now: number, nearMiss: boolean, mayMoveDown: boolean, unbacked: boolean): void {
    const state = this.viewers.get(id)!;
    if (rung === state.rung || (rung > state.rung && unbacked)) {
      delete state.wanted;
      return;
    }
    if (state.wanted?.rung !== rung) state.wanted = { rung, sinceMs: now };
    const waited = now - state.wanted.sinceMs;
    const downAfterMs = nearMiss ? this.o.nearMissAfterMs : this.o.downAfterMs;
    const due =
      rung > state.rung
        ? waited >= downAfterMs && mayMoveDown
        : waited >= this.o.upAfterMs && now - state.movedAtMs >= this.o.upAfterMs && now >= (state.holdUntilMs ?? 0);
    if (!due) return;
    state.rung = rung;
    state.movedAtMs = now;
    delete state.wanted;
  }

  /**
   * Tracks the viewer's run of PLIs; true once it has lasted `pliStreakMs` (the run then starts over, so
   * another move down needs another full run). On the bottom rung there is nowhere to go: false.
   */
  private keepsLosingPictures(state: ViewerState, pliCount: number | undefined, now: number): boolean {
    if (pliCount === undefined) return false;
    const plis = (state.plis ??= { count: pliCount });
    if (pliCount > plis.count) {
      if (plis.lastMs === undefined || now - plis.lastMs > this.o.pliGapMs) plis.streakSinceMs = now;
      plis.lastMs = now;
    }
    plis.count = pliCount;
    if (plis.lastMs === undefined || plis.streakSinceMs === undefined || now - plis.lastMs > this.o.pliGapMs) return false;
    if (now - plis.streakSinceMs < this.o.pliStreakMs || state.rung === RUNGS.length - 1) return false;
    delete plis.streakSinceMs;
    delete plis.lastMs;
    return true;
  }

  private setTarget(rung: number, bps: number, now: number): void {
    const current = this.targets[rung];
    if (current === null || current === undefined || bps < current) {
      this.targets[rung] = bps;
      return;
    }
    // Small rises wait for a bigger one: each change costs the encoder a reconfiguration.
    if (bps > current * 1.05 && now - this.raisedAtMs[rung]! >= this.o.raiseEveryMs) {
      this.targets[rung] = bps;
      this.raisedAtMs[rung] = now;
    }
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}
