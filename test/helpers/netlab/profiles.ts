/**
 * Named link profiles of the network lab (docs/network-lab.md describes each). "down" is server →
 * browser, "up" browser → server. Delay, jitter, loss and reordering are done by the user-space bridge
 * (bridge.py), rate and queue depth by tbf on the router's egress; every random choice comes from the
 * profile's seed, so a run can be repeated.
 */

/** What the bridge does to one direction (bridge.py documents each field). */
export interface Impairment {
  delayMs: number;
  jitterMs: number;
  /** 0 … 1 */
  loss: number;
  /** 0 … 1 */
  reorder: number;
  reorderMs: number;
}

/** The bottleneck of one direction: a token bucket and the queue in front of it. */
export interface Shaping {
  rateKbit: number;
  /** Bytes the queue holds before it drops (tbf `limit`): its depth in time is queueBytes × 8 / rate. */
  queueBytes: number;
}

export interface LinkDirection {
  impairment: Impairment;
  /** null: not shaped (the veth's own speed). */
  shaping: Shaping | null;
}

/** A change of one direction's rate (and optionally queue) `atMs` after the profile was applied. */
export interface RateStep {
  atMs: number;
  direction: 'down' | 'up';
  rateKbit: number;
  queueBytes?: number;
}

export interface LinkProfile {
  name: string;
  description: string;
  down: LinkDirection;
  up: LinkDirection;
  seed: number;
  /** Rate changes over time (the congested profile); empty for a steady link. */
  schedule: RateStep[];
}

export const NO_IMPAIRMENT: Impairment = { delayMs: 0, jitterMs: 0, loss: 0, reorder: 0, reorderMs: 0 };

/** Queue bytes that hold `ms` of traffic at `rateKbit`, at least three full-size frames. */
export function queueFor(rateKbit: number, ms: number): number {
  return Math.max(3 * 1514, Math.round((rateKbit * 1000 * ms) / 8000));
}

function direction(impairment: Partial<Impairment>, rateKbit: number | null, queueMs = 50): LinkDirection {
  return {
    impairment: { ...NO_IMPAIRMENT, ...impairment },
    shaping: rateKbit === null ? null : { rateKbit, queueBytes: queueFor(rateKbit, queueMs) },
  };
}

/** Symmetric delay: each direction carries half the round trip. */
const oneWay = (rttMs: number): number => rttMs / 2;

export const PROFILES = {
  lan: {
    name: 'lan',
    description: 'unshaped: no delay, no loss, the veth pair at full speed',
    down: direction({}, null),
    up: direction({}, null),
    seed: 1,
    schedule: [],
  },
  dsl: {
    name: 'dsl',
    description: '8 Mbit/s down, 1 Mbit/s up, 30 ms RTT, 0.2 % loss each way, 50 ms queues',
    down: direction({ delayMs: oneWay(30), loss: 0.002 }, 8000),
    up: direction({ delayMs: oneWay(30), loss: 0.002 }, 1000),
    seed: 2,
    schedule: [],
  },
  mobile: {
    name: 'mobile',
    description: '1.5 Mbit/s each way, 120 ms RTT varying by ±30 ms (±15 ms each way), 2 % loss each way, 1 % of packets reordered, 100 ms queues',
    down: direction({ delayMs: oneWay(120), jitterMs: 15, loss: 0.02, reorder: 0.01, reorderMs: 20 }, 1500, 100),
    up: direction({ delayMs: oneWay(120), jitterMs: 15, loss: 0.02, reorder: 0.01, reorderMs: 20 }, 1500, 100),
    seed: 3,
    schedule: [],
  },
  congested: {
    name: 'congested',
    description: '5 Mbit/s each way, 40 ms RTT, 100 ms queues; the downlink drops to 800 kbit/s 10 s after the start for 20 s, then comes back',
    down: direction({ delayMs: oneWay(40) }, 5000, 100),
    up: direction({ delayMs: oneWay(40) }, 5000, 100),
    seed: 4,
    schedule: [
      { atMs: 10_000, direction: 'down', rateKbit: 800, queueBytes: queueFor(800, 100) },
      { atMs: 30_000, direction: 'down', rateKbit: 5000, queueBytes: queueFor(5000, 100) },
    ],
  },
  bufferbloat: {
    name: 'bufferbloat',
    description: '2 Mbit/s each way, 20 ms RTT, 1 s deep queues (a bloated home router)',
    down: direction({ delayMs: oneWay(20) }, 2000, 1000),
    up: direction({ delayMs: oneWay(20) }, 2000, 1000),
    seed: 5,
    schedule: [],
  },
  shallow: {
    name: 'shallow',
    description: '2 Mbit/s each way, 20 ms RTT, queues of three full-size packets (drops instead of delay)',
    down: direction({ delayMs: oneWay(20) }, 2000, 0),
    up: direction({ delayMs: oneWay(20) }, 2000, 0),
    seed: 6,
    schedule: [],
  },
  narrow: {
    name: 'narrow',
    description: '1 Mbit/s each way, 20 ms RTT, 100 ms queues: under the default --bitrate 2500',
    down: direction({ delayMs: oneWay(20) }, 1000, 100),
    up: direction({ delayMs: oneWay(20) }, 1000, 100),
    seed: 7,
    schedule: [],
  },
} satisfies Record<string, LinkProfile>;

export type ProfileName = keyof typeof PROFILES;

export function profile(name: string): LinkProfile {
  const found = (PROFILES as Record<string, LinkProfile>)[name];
  if (!found) throw new Error(`unknown link profile "${name}"; known: ${Object.keys(PROFILES).join(', ')}`);
  return found;
}
