import { z } from 'zod';
import { IceServerSchema } from '../protocol/index.js';
import { DesktopNameSchema } from '../cluster/records.js';
import { takesTurnRestCredential } from '../auth/turn-credentials.js';

export const Resolution = z
  .string()
  .regex(/^\d{2,5}x\d{2,5}$/, 'expected WIDTHxHEIGHT, e.g. 1280x720')
  .transform((s) => {
    const [w, h] = s.split('x').map(Number) as [number, number];
    return { width: w, height: h };
  })
  .refine((r) => r.width >= 16 && r.height >= 16 && r.width <= 7680 && r.height <= 4320 && r.width % 2 === 0 && r.height % 2 === 0, {
    message: 'width and height must be even and between 16x16 and 7680x4320',
  });

/** Accepts a JSON array of RTCIceServer, or a comma-separated list of URLs (`stun:host:3478,turn:…`). */
const IceServers = z.preprocess((value) => {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (text === '') return [];
  if (text.startsWith('[')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return value;
    }
  }
  return text.split(',').map((urls) => ({ urls: urls.trim() }));
}, z.array(IceServerSchema));

/** Every way a number can be wrong gets the same message: what would be accepted. */
const Int = (min: number, max: number) => {
  const error = `expected a whole number from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};

/** One of a few words; the message lists them. */
const OneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `expected one of ${values.join('|')}` });

/**
 * The UDP ports werift binds for ICE: `MIN-MAX` (inclusive), from 1024 (below are privileged) to 65535. Each
 * peer connection holds one port per host address it gathers on, and one more with a TURN server.
 */
const PortRange = z
  .string()
  .regex(/^\s*\d{1,5}\s*-\s*\d{1,5}\s*$/, 'expected MIN-MAX, e.g. 40000-40199')
  .transform((s) => s.split('-').map((p) => Number(p.trim())) as [number, number])
  .refine(([min, max]) => min >= 1024 && max <= 65535, { message: 'ports must be from 1024 to 65535' })
  .refine(([min, max]) => min < max, { message: 'MIN must be below MAX (werift needs at least two ports)' });

/**
 * A named desktop: `NAME` or `NAME:APP` on the command line (APP a command line, as for --app), or
 * `{"name", "app"}` in the config file; a comma-separated list in STREAMGATE_DESKTOP.
 */
const DesktopSpec = z.preprocess((value) => {
  if (typeof value !== 'string') return value;
  const colon = value.indexOf(':');
  return colon < 0 ? { name: value.trim() } : { name: value.slice(0, colon).trim(), app: value.slice(colon + 1).trim() };
}, z.strictObject({ name: DesktopNameSchema, app: z.string().min(1).optional() }));
export type DesktopSpec = z.output<typeof DesktopSpec>;

const DesktopSpecs = z
  .preprocess((v) => (typeof v === 'string' ? v.split(',') : v), z.array(DesktopSpec))
  .refine((specs) => new Set(specs.map((s) => s.name)).size === specs.length, { message: 'each desktop name may be given once' });

/** A comma-separated list from a flag or the environment; an array from a config file. */
const CommaList = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v), z.array(item));

/** A switch: `true`/`false` from the environment or a file, and true when given on the command line alone. */
const Switch = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean({ error: 'expected true or false' }));

/** How log lines are written: `pretty` for a person, `json` for a collector, `auto` = pretty when stderr is a terminal. */
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;

/**
 * Every setting, its default and its range. CLI flags, STREAMGATE_* environment variables and the
 * optional JSON config file all feed this one schema, so a bad value fails the same way from any of them.
 * The settings one by one (their defaults are what --help shows); ConfigSchema adds the rules between them.
 */
export const ConfigFields = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: Int(0, 65535).default(8080),
  source: OneOf(['virtual', 'test', 'x11']).default('virtual'),
  display: z.string().regex(/^[\w.-]*:\d+(\.\d+)?$/, 'expected an X display like :0').optional(),
  audioServer: z
    .string()
    .regex(/^(unix:)?\/[\w./-]+$|^tcp[46]?:[\w.:[\]-]+$/, 'expected a PulseAudio server like unix:/run/user/1000/pulse/native or tcp:host:4713')
    .optional(),
  resolution: Resolution.default({ width: 1280, height: 720 }),
  app: z.string().min(1).default('xterm'),
  appUser: z.string().min(1).optional(),
  framerate: Int(1, 120).default(30),
  bitrate: Int(100, 50_000).default(2500),
  adaptiveBitrate: OneOf(['on', 'ladder', 'off']).default('ladder'),
  idleStop: Int(0, 3_600_000).default(5000),
  keepWarm: Switch.optional(),
  logLevel: OneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  logFormat: OneOf(LOG_FORMATS).default('auto'),
  heartbeatInterval: Int(100, 3_600_000).default(30_000),
  livenessTimeout: Int(100, 3_600_000).optional(),
  maxMessageSize: Int(256, 16 * 1024 * 1024).default(65_536),
  iceServers: IceServers.default([]),
  turnSecret: z.string().min(16, 'use at least 16 characters').optional(),
  turnTtl: Int(60_000, 7 * 86_400_000).default(86_400_000),
  publicIp: z.union([z.ipv4(), z.ipv6()], { error: 'expected an IP address, e.g. 203.0.113.7' }).optional(),
  udpPorts: PortRange.optional(),
  input: OneOf(['all', 'first', 'none']).default('first'),
  maxPeers: Int(1, 1_000_000).default(200),
  rateLimit: Int(1, 1_000_000).default(100),
  inputRateLimit: Int(1, 1_000_000).default(2000),
  webRoot: z.string().optional(),
  maxPeersPerIp: Int(1, 1_000_000).default(50),
  resumeGrace: Int(0, 3_600_000).default(15_000),
  helloTimeout: Int(100, 3_600_000).default(30_000),
  maxNegotiations: Int(1, 1000).default(4),
  authToken: z.string().min(16, 'use at least 16 characters').optional(),
  jwtSecret: z.string().min(32, 'an HS256 secret needs at least 32 characters').optional(),
  jwtPublicKey: z.string().min(1).optional(),
  publicMetrics: Switch.default(false),
  insecureNoAuth: Switch.default(false),
  allowedOrigins: z
    .preprocess((v) => (typeof v === 'string' ? v.split(',').map((o) => o.trim()).filter(Boolean) : v), z.array(z.string()))
    .default([]),
  tlsCert: z.string().min(1).optional(),
  tlsKey: z.string().min(1).optional(),
  desktops: DesktopSpecs.default([]),
  redis: z.string().regex(/^rediss?:\/\//, 'expected a Redis URL like redis://host:6379').optional(),
  nodeId: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'a node id is 1 to 128 characters: A-Z, a-z, 0-9, "_", "." and "-"').optional(),
  advertiseUrl: z.url({ protocol: /^https?$/ }).optional(),
  clusterSecret: z.string().min(16, 'use at least 16 characters').optional(),
  clusterTtl: Int(1000, 3_600_000).default(15_000),
  maxDesktops: Int(1, 10_000).default(16),
  desktopIdleTimeout: Int(0, 2_147_483_647).default(0),
  janus: CommaList(z.string().url()).default([]),
  janusAdmin: CommaList(z.string().url()).default([]),
  janusApiSecret: z.string().min(1).optional(),
  janusAdminKey: z.string().min(1).optional(),
  janusAdminSecret: z.string().min(1).optional(),
  maxLocalViewers: Int(0, 1_000_000).default(50),
  janusFallback: OneOf(['local', 'tell']).default('local'),
  uploadDir: z.string().min(1).optional(),
  downloadDir: z.string().min(1).optional(),
  maxUploadSize: Int(0, Number.MAX_SAFE_INTEGER).default(100 * 1024 * 1024),
  clipboard: OneOf(['off', 'to-client', 'to-desktop', 'both']).default('both'),
  resize: OneOf(['off', 'controller']).default('off'),
  maxResolution: Resolution.optional(),
  maxClipboardSize: Int(1024, 64 * 1024 * 1024).default(8 * 1024 * 1024),
});

export const ConfigSchema = ConfigFields
  .refine((c) => c.janusAdmin.length === 0 || c.janusAdmin.length === c.janus.length, {
    message: '--janus-admin names one admin URL per --janus URL, in the same order',
    path: ['janusAdmin'],
  })
  .refine((c) => (c.tlsCert === undefined) === (c.tlsKey === undefined), {
    message: '--tls-cert and --tls-key go together',
    path: ['tlsCert'],
  })
  .refine((c) => !(c.jwtSecret && c.jwtPublicKey), {
    message: 'choose one of --jwt-secret (HS256) and --jwt-public-key (RS256/ES256), not both',
    path: ['jwtSecret'],
  })
  .refine((c) => !(c.insecureNoAuth && (c.authToken || c.jwtSecret || c.jwtPublicKey)), {
    message: 'auth is configured: --insecure-no-auth would contradict it',
    path: ['insecureNoAuth'],
  })
  .refine((c) => !(c.source === 'x11' && c.desktops.length > 0), {
    message: '--source x11 streams one existing display: named desktops need --source virtual (or test)',
    path: ['desktops'],
  })
  .refine((c) => c.turnSecret === undefined || c.iceServers.some(takesTurnRestCredential), {
    message: 'mints credentials for the turn: URLs of --ice-servers that carry no username: name one, e.g. --ice-servers turn:turn.example.com:3478',
    path: ['turnSecret'],
  })
  .transform((c) => ({
    ...c,
    // 3 × max(heartbeat, 30 s) (docs/protocol.md, "Liveness"), so the Go seed (which never adopts the interval) survives.
    livenessTimeout: c.livenessTimeout ?? 3 * Math.max(c.heartbeatInterval, 30_000),
    // What media, signaling and WHEP need to mint TURN REST credentials (src/auth/turn-credentials.ts).
    turnRest: c.turnSecret === undefined ? undefined : { secret: c.turnSecret, ttlMs: c.turnTtl },
  }));

export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
