/**
 * Reconnect policy: which close codes are worth another attempt, and how long to wait before it.
 * Pure functions, so that the policy can be tested without sockets or clocks.
 */
import { CloseCode } from '../protocol/errors.js';

export interface BackoffOptions {
  /** Delay before the first retry, in ms. */
  baseDelayMs: number;
  /** Upper bound of any delay, in ms. */
  maxDelayMs: number;
  /** Growth per attempt (2 = doubling). */
  factor: number;
  /** 0 = no jitter; 0.5 = the delay is drawn from [50 %, 100 %] of the exponential step. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseDelayMs: 500, maxDelayMs: 15_000, factor: 2, jitter: 0.5 };

/** The exponential step for attempt `n` (0-based), before jitter: min(max, base × factor^n). */
export function backoffCeiling(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  const n = Math.max(0, Math.floor(attempt));
  const step = options.baseDelayMs * Math.pow(options.factor, n);
  return Math.min(options.maxDelayMs, Number.isFinite(step) ? step : options.maxDelayMs);
}

/**
 * Delay before reconnect attempt `n` (0-based), with jitter so that many viewers of a restarted
 * server do not all knock at the same instant. Always within
 * [ceiling × (1 − jitter), ceiling], where ceiling = {@link backoffCeiling}.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = backoffCeiling(attempt, options);
  const jitter = Math.min(1, Math.max(0, options.jitter));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(ceiling * (1 - jitter * r));
}

/**
 * Close codes after which the client tries again by itself: the server going away, an abnormal end
 * (no close frame: crash, network, refused), a server error, a service restart, try again later, a
 * bad gateway, the liveness timeout. Never after NORMAL (a deliberate close), POLICY (e.g. bad
 * credentials) or REPLACED (by a newer connection of the same session), nor after codes that mean this
 * client sent something wrong.
 */
export const RECONNECT_CLOSE_CODES: ReadonlySet<number> = new Set<number>([
  CloseCode.GOING_AWAY,
  CloseCode.ABNORMAL,
  CloseCode.INTERNAL_ERROR,
  CloseCode.SERVICE_RESTART,
  CloseCode.TRY_AGAIN_LATER,
  CloseCode.BAD_GATEWAY,
  CloseCode.LIVENESS_TIMEOUT,
]);

export function shouldReconnect(closeCode: number): boolean {
  return RECONNECT_CLOSE_CODES.has(closeCode);
}
