/**
 * Client options: validated once, at construction, with messages that name the option and say
 * what was expected. zod/mini keeps the browser bundle small (the classic API is ~450 kB).
 */
import * as z from 'zod/mini';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import type { PeerId } from '../protocol/index.js';
import type { EarlySession } from './early-session.js';

/**
 * An event handler slot of {@link WebSocketLike}, for an event with (at least) the fields of `E`. It is a
 * method's type so that its parameter is compared both ways: the DOM's handlers take `Event`, `MessageEvent`
 * and `CloseEvent`, `ws`'s take its own event classes; each has the fields named here, so both fit.
 */
type EventHandler<E> = { handle(event: E): unknown }['handle'] | null;

/** The part of the WebSocket API the client uses: the browser's global and npm `ws` both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: EventHandler<unknown>;
  onmessage: EventHandler<{ data: unknown }>;
  onclose: EventHandler<{ code: number; reason: string }>;
  onerror: EventHandler<unknown>;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;
export type PeerConnectionConstructor = new (configuration?: RTCConfiguration) => RTCPeerConnection;

export interface ClientLogger {
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}

export interface StreamgateClientOptions {
  /** Signaling URL, e.g. `ws://localhost:8080/ws`. */
  url: string;
  /** The label sent as `peer_id` (the server echoes it in the same JSON type). Default: a random number, as the seed. */
  peerId?: PeerId;
  /** Merged into `hello.data.client_info`. */
  clientInfo?: Record<string, unknown>;
  /** Extensions to announce in `hello.data.capabilities`, e.g. `clipboard` (docs/protocol.md, "Extensions"). */
  capabilities?: string[];
  /** Reconnect by itself after an abnormal close (default true). */
  autoReconnect?: boolean;
  /** Attempts per outage before giving up (default Infinity). */
  maxRetries?: number;
  backoff?: Partial<BackoffOptions>;
  /** Messages kept while offline; the oldest is dropped when full (default 100). */
  maxQueueSize?: number;
  /** `true` (default): ping at the welcome's `heartbeat_interval`; a number: ping every so many ms; `false`: never. */
  heartbeat?: boolean | number;
  /** How long ping, get-stats and request-offer wait for their answer (ms, default 15000). */
  requestTimeoutMs?: number;
  /** Defaults of {@link StreamgateClient.requestOffer}. */
  constraints?: { video?: boolean; audio?: boolean };
  /**
   * Video codecs in the app's order (default H264, VP8, VP9). In a browser, those it can decode
   * (`RTCRtpReceiver.getCapabilities`) go first; a list of one codec forces it as it is.
   */
  codecPreferences?: string[];
  /** A `<video>` to play the stream in (more with `attachVideo`). */
  video?: HTMLVideoElement | null;
  /** Extra RTCPeerConnection configuration; `iceServers` defaults to the welcome's `ice_servers`. */
  rtcConfig?: RTCConfiguration;
  /** Defaults to the global `WebSocket`; in Node pass `WebSocket` from the `ws` package. */
  WebSocket?: WebSocketConstructor;
  /** Defaults to the global `RTCPeerConnection`. */
  RTCPeerConnection?: PeerConnectionConstructor;
  logger?: ClientLogger | null;
  /** A session a boot script began before the SDK loaded, to carry on (early-session.ts). */
  early?: EarlySession | null;
}

export interface ResolvedOptions {
  url: string;
  peerId: PeerId;
  clientInfo: Record<string, unknown>;
  capabilities: string[];
  autoReconnect: boolean;
  maxRetries: number;
  backoff: BackoffOptions;
  maxQueueSize: number;
  heartbeat: boolean | number;
  requestTimeoutMs: number;
  constraints: { video: boolean; audio: boolean };
  codecPreferences: string[];
  video: HTMLVideoElement | null;
  rtcConfig: RTCConfiguration;
  WebSocket: WebSocketConstructor;
  RTCPeerConnection: PeerConnectionConstructor | null;
  logger: ClientLogger;
  early: EarlySession | null;
}

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid Streamgate client options: ${issues.join('; ')}`);
    this.name = 'ConfigError';
  }
}

const isFunction = (v: unknown): boolean => typeof v === 'function';
const fn = (what: string) => z.optional(z.custom<unknown>(isFunction, { message: `must be a ${what} constructor` }));
const count = z.number().check(z.int(), z.minimum(0));
const positiveMs = z.number().check(z.positive());

const OptionsSchema = z.strictObject({
  url: z.string().check(
    z.refine((s) => {
      try {
        const u = new URL(s);
        return u.protocol === 'ws:' || u.protocol === 'wss:';
      } catch {
        return false;
      }
    }, 'must be a ws:// or wss:// URL, e.g. ws://localhost:8080/ws'),
  ),
  peerId: z.optional(z.union([z.string().check(z.minLength(1), z.maxLength(256)), z.number()])),
  clientInfo: z.optional(z.record(z.string(), z.unknown())),
  capabilities: z.optional(z.array(z.string().check(z.minLength(1), z.maxLength(64))).check(z.maxLength(32))),
  autoReconnect: z.optional(z.boolean()),
  maxRetries: z.optional(
    z.custom<number>((v) => typeof v === 'number' && (v === Infinity || (Number.isInteger(v) && v >= 0)), {
      message: 'must be an integer ≥ 0, or Infinity',
    }),
  ),
  backoff: z.optional(
    z.strictObject({
      baseDelayMs: z.optional(positiveMs),
      maxDelayMs: z.optional(positiveMs),
      factor: z.optional(z.number().check(z.gte(1))),
      jitter: z.optional(z.number().check(z.gte(0), z.lte(1))),
    }),
  ),
  maxQueueSize: z.optional(count.check(z.maximum(100_000))),
  heartbeat: z.optional(z.union([z.boolean(), z.number().check(z.gte(100))])),
  requestTimeoutMs: z.optional(positiveMs),
  constraints: z.optional(z.strictObject({ video: z.optional(z.boolean()), audio: z.optional(z.boolean()) })),
  codecPreferences: z.optional(z.array(z.string().check(z.minLength(1), z.maxLength(32))).check(z.maxLength(16))),
  video: z.optional(z.nullable(z.custom<unknown>((v) => typeof v === 'object' && v !== null, { message: 'must be a <video> element' }))),
  rtcConfig: z.optional(z.custom<unknown>((v) => typeof v === 'object' && v !== null, { message: 'must be an RTCConfiguration object' })),
  WebSocket: fn('WebSocket'),
  RTCPeerConnection: fn('RTCPeerConnection'),
  early: z.optional(
    z.nullable(
      z.custom<unknown>((v) => typeof v === 'object' && v !== null && Array.isArray((v as Record<string, unknown>).messages), {
        message: 'must be the session a boot script began (EarlySession)',
      }),
    ),
  ),
  logger: z.optional(
    z.nullable(
      z.custom<unknown>(
        (v) => typeof v === 'object' && v !== null && ['debug', 'info', 'warn', 'error'].every((k) => isFunction((v as Record<string, unknown>)[k])),
        { message: 'must have debug, info, warn and error methods' },
      ),
    ),
  ),
});

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)?.slice(0, 40)}`;
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let v = root;
  for (const key of path) v = typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

/** One readable line per problem, naming the option: `maxQueueSize: must be ≥ 0 (got number -1)`. */
function explain(issue: z.core.$ZodIssue, input: unknown): string {
  const where = issue.path.length ? issue.path.map(String).join('.') : 'options';
  const got = valueAt(input, issue.path);
  switch (issue.code) {
    case 'invalid_type':
      return `${where}: expected ${issue.expected}, got ${describe(got)}`;
    case 'too_small':
      return `${where}: must be ${issue.origin === 'string' || issue.origin === 'array' ? 'at least ' + String(issue.minimum) + ' long' : (issue.inclusive ? '≥ ' : '> ') + String(issue.minimum)} (got ${describe(got)})`;
    case 'too_big':
      return `${where}: must be ${issue.origin === 'string' || issue.origin === 'array' ? 'at most ' + String(issue.maximum) + ' long' : (issue.inclusive ? '≤ ' : '< ') + String(issue.maximum)} (got ${describe(got)})`;
    case 'unrecognized_keys':
      return `${where}: unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_union':
      return `${where}: ${describe(got)} is not allowed here`;
    default:
      return `${where}: ${issue.message === 'Invalid input' ? `invalid value ${describe(got)}` : issue.message}`;
  }
}

const SILENT: ClientLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Validates options and fills in defaults; throws {@link ConfigError} listing every problem. */
export function resolveOptions(options: StreamgateClientOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new ConfigError([`options: expected an object, got ${describe(options)}`]);
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => explain(i, options)));
  const backoff = { ...DEFAULT_BACKOFF, ...stripUndefined(options.backoff ?? {}) };
  if (backoff.maxDelayMs < backoff.baseDelayMs) {
    throw new ConfigError([`backoff.maxDelayMs: must be ≥ baseDelayMs (${backoff.baseDelayMs}), got ${backoff.maxDelayMs}`]);
  }
  const g = globalThis as { WebSocket?: unknown; RTCPeerConnection?: unknown };
  const WebSocketCtor = options.WebSocket ?? (typeof g.WebSocket === 'function' ? (g.WebSocket as WebSocketConstructor) : null);
  if (!WebSocketCtor) {
    throw new ConfigError(["WebSocket: this environment has no global WebSocket; pass one, e.g. `import WebSocket from 'ws'` and `{ WebSocket }`"]);
  }
  return {
    url: options.url,
    peerId: options.peerId ?? Math.floor(Math.random() * 1_000_000),
    clientInfo: options.clientInfo ?? {},
    capabilities: options.capabilities ?? [],
    autoReconnect: options.autoReconnect ?? true,
    maxRetries: options.maxRetries ?? Infinity,
    backoff,
    maxQueueSize: options.maxQueueSize ?? 100,
    heartbeat: options.heartbeat ?? true,
    requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
    constraints: { video: options.constraints?.video ?? true, audio: options.constraints?.audio ?? true },
    codecPreferences: options.codecPreferences ?? ['H264', 'VP8', 'VP9'],
    video: options.video ?? null,
    rtcConfig: options.rtcConfig ?? {},
    WebSocket: WebSocketCtor,
    RTCPeerConnection:
      options.RTCPeerConnection ?? (typeof g.RTCPeerConnection === 'function' ? (g.RTCPeerConnection as PeerConnectionConstructor) : null),
    logger: options.logger ?? SILENT,
    early: options.early ?? null,
  };
}

/** `o` without its undefined fields, so that spreading it over defaults keeps the defaults. */
export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
