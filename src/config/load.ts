import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { z } from 'zod';
import { CloseCode } from '../protocol/index.js';
import { ConfigFields, ConfigSchema, type Config } from './options.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * flag name → config key; the environment variable is STREAMGATE_ + the flag in upper snake case.
 * A switch may stand alone on the command line (meaning true) or take true|false. A secret's value is never
 * repeated in an error message. --help shows the schema's default (see `defaultText`), or `defaultIs` where
 * the default is worked out at start, or none.
 */
const FLAGS: { flag: string; key: keyof typeof ConfigFields.shape; help: string; defaultIs?: string; switch?: true; secret?: true; repeat?: true }[] = [
  { flag: 'host', key: 'host', help: 'address to listen on; beyond loopback a token is required (one is made up unless auth is configured)' },
  { flag: 'port', key: 'port', help: 'HTTP + WebSocket port (0 = any free port)' },
  { flag: 'source', key: 'source', help: 'virtual (own Xvfb desktop) | test (test pattern + tone) | x11 (existing display)' },
  { flag: 'display', key: 'display', help: 'X display for --source x11', defaultIs: '$DISPLAY' },
  { flag: 'audio-server', key: 'audioServer', help: 'PulseAudio server whose output is streamed with --source x11', defaultIs: '$PULSE_SERVER; silence without' },
  { flag: 'resolution', key: 'resolution', help: 'virtual desktop / test pattern size, WIDTHxHEIGHT' },
  { flag: 'app', key: 'app', help: 'command run inside the virtual desktop' },
  { flag: 'app-user', key: 'appUser', help: 'account the virtual desktop\'s app (and its PulseAudio) runs as when the server runs as root', defaultIs: 'nobody; root keeps root' },
  { flag: 'framerate', key: 'framerate', help: 'video frames per second' },
  { flag: 'bitrate', key: 'bitrate', help: 'video bitrate in kbit/s (with adaptive bitrate: the ceiling)' },
  { flag: 'adaptive-bitrate', key: 'adaptiveBitrate', help: 'ladder: one encoder per quality rung, each viewer on the rung its bandwidth estimate fits (a slow link moves its viewer down alone) | on: one encoder per codec following the slowest viewer\'s estimate | off: fixed --bitrate; adaptive modes stay under --bitrate' },
  { flag: 'idle-stop', key: 'idleStop', help: 'ms an encoder keeps running after its last viewer left (a reload comes straight back to it)' },
  {
    flag: 'keep-warm',
    key: 'keepWarm',
    help: 'run the default codec\'s video encoder and the audio encoder from server start, viewers or not, so the first page open does not wait for them (true|false)',
    defaultIs: 'true with --source virtual, else false',
    switch: true,
  },
  { flag: 'log-level', key: 'logLevel', help: 'fatal|error|warn|info|debug|trace|silent' },
  { flag: 'log-format', key: 'logFormat', help: 'auto (pretty on a terminal, else json) | pretty (lines for a person) | json (one JSON object a line, for collectors)' },
  { flag: 'heartbeat-interval', key: 'heartbeatInterval', help: 'ms between pings, told to clients in welcome' },
  { flag: 'liveness-timeout', key: 'livenessTimeout', help: `ms of silence before closing with ${CloseCode.LIVENESS_TIMEOUT}`, defaultIs: '3 × max(heartbeat, 30000)' },
  { flag: 'max-message-size', key: 'maxMessageSize', help: 'largest accepted frame in bytes' },
  { flag: 'ice-servers', key: 'iceServers', help: 'JSON RTCIceServer[] or comma-separated URLs (e.g. turn:host:3478)' },
  {
    flag: 'turn-secret',
    key: 'turnSecret',
    help: 'coturn\'s static-auth-secret (use-auth-secret): each viewer, and the server\'s own peers, get short-lived TURN REST credentials for the turn: URLs of --ice-servers',
    secret: true,
  },
  { flag: 'turn-ttl', key: 'turnTtl', help: 'ms the TURN credentials minted with --turn-secret stay valid (a session outliving them loses its relay at the next refresh)' },
  { flag: 'public-ip', key: 'publicIp', help: 'address a 1:1 NAT maps to this host: offered as an extra host candidate on every UDP port' },
  { flag: 'udp-ports', key: 'udpPorts', help: 'MIN-MAX: the UDP ports WebRTC media uses (one per viewer and host address, one more with TURN)', defaultIs: 'any free port' },
  { flag: 'input', key: 'input', help: 'who may send input: all | first (first peer controls) | none' },
  { flag: 'max-peers', key: 'maxPeers', help: 'most WebSocket connections at once' },
  { flag: 'rate-limit', key: 'rateLimit', help: 'messages per second per peer (burst 2×)' },
  { flag: 'input-rate-limit', key: 'inputRateLimit', help: 'input events per second per peer (burst 2×)' },
  { flag: 'web-root', key: 'webRoot', help: 'folder served at /', defaultIs: 'the built viewer' },
  { flag: 'resume-grace', key: 'resumeGrace', help: 'ms a dropped session (and its media) waits to be resumed' },
  { flag: 'hello-timeout', key: 'helloTimeout', help: 'ms a new WebSocket has to send hello before it is closed (it holds a connection slot meanwhile)' },
  { flag: 'max-peers-per-ip', key: 'maxPeersPerIp', help: 'most connections from one address' },
  { flag: 'max-negotiations', key: 'maxNegotiations', help: 'offers being created at once; more wait their turn' },
  { flag: 'auth-token', key: 'authToken', help: 'turn auth on: a shared secret token (grants the control role)', secret: true },
  { flag: 'jwt-secret', key: 'jwtSecret', help: 'turn auth on: accept HS256 JWTs signed with this secret', secret: true },
  { flag: 'jwt-public-key', key: 'jwtPublicKey', help: 'turn auth on: accept RS256/ES256 JWTs verified with this PEM public key file' },
  { flag: 'public-metrics', key: 'publicMetrics', help: 'serve /metrics without credentials when auth is on (true|false)' },
  {
    flag: 'insecure-no-auth',
    key: 'insecureNoAuth',
    help: 'on an address other than loopback, serve without auth instead of with a generated token (anyone who reaches the port controls the desktop)',
    switch: true,
  },
  { flag: 'allowed-origins', key: 'allowedOrigins', help: 'extra browser origins allowed to open /ws (comma-separated; * for any)' },
  { flag: 'tls-cert', key: 'tlsCert', help: 'PEM certificate file: serve https and wss' },
  { flag: 'tls-key', key: 'tlsKey', help: 'PEM private key file for --tls-cert' },
  { flag: 'desktop', key: 'desktops', help: 'a named desktop NAME[:APP] (repeatable); /ws/NAME opens it, /ws the first', repeat: true },
  { flag: 'redis', key: 'redis', help: 'join a cluster through this Redis (redis:// or rediss:// URL)' },
  { flag: 'node-id', key: 'nodeId', help: 'this node\'s id in the cluster (default: the host name and port)' },
  { flag: 'advertise-url', key: 'advertiseUrl', help: 'http(s) URL other nodes reach this one at (default: http://HOST:PORT)' },
  { flag: 'cluster-secret', key: 'clusterSecret', help: 'shared by the nodes: signs the client addresses relays forward' },
  { flag: 'cluster-ttl', key: 'clusterTtl', help: 'ms a node and its desktops outlive its last heartbeat' },
  { flag: 'max-desktops', key: 'maxDesktops', help: 'most desktops this node runs' },
  { flag: 'desktop-idle-timeout', key: 'desktopIdleTimeout', help: 'ms without a viewer after which a desktop created through the API is stopped (0 = never)' },
  { flag: 'janus', key: 'janus', help: 'serve view-only viewers through these Janus gateways (comma-separated HTTP API URLs, e.g. http://127.0.0.1:8088/janus)' },
  { flag: 'janus-admin', key: 'janusAdmin', help: 'admin API URL of each --janus gateway, same order (for per-viewer figures in stats)' },
  { flag: 'janus-api-secret', key: 'janusApiSecret', help: 'api_secret of the --janus gateways' },
  { flag: 'janus-admin-key', key: 'janusAdminKey', help: 'admin_key of their streaming plugin (needed to create mountpoints)' },
  { flag: 'janus-admin-secret', key: 'janusAdminSecret', help: 'admin_secret of their admin API (--janus-admin)' },
  { flag: 'max-local-viewers', key: 'maxLocalViewers', help: 'with --janus: view-only viewers beyond this many local ones go to Janus (0 = all of them)' },
  { flag: 'janus-fallback', key: 'janusFallback', help: 'when a Janus goes away, its viewers move to local fan-out (local) or are told MEDIA_UNAVAILABLE until it is back (tell)' },
  { flag: 'upload-dir', key: 'uploadDir', help: 'folder the peer with the control role uploads files into over HTTP (off without)' },
  { flag: 'download-dir', key: 'downloadDir', help: 'folder the peer with the control role downloads files from over HTTP (off without)' },
  { flag: 'resize', key: 'resize', help: 'off | controller: the virtual desktop takes the size of the controlling viewer\'s window' },
  { flag: 'max-resolution', key: 'maxResolution', help: 'the largest size --resize controller may make the virtual desktop (default 2560x1440, at least --resolution)' },
  { flag: 'clipboard', key: 'clipboard', help: 'clipboard sharing with the peer in control: off | to-client | to-desktop | both' },
  { flag: 'max-clipboard-size', key: 'maxClipboardSize', help: 'largest clipboard content (text or PNG) in bytes, either way' },
  { flag: 'max-upload-size', key: 'maxUploadSize', help: 'largest upload in bytes' },
];

const SCHEMA_DEFAULTS = ConfigFields.parse({});

/** The schema's default for `key` as it would be typed on the command line; undefined when it has none. */
function defaultText(key: keyof typeof SCHEMA_DEFAULTS): string | undefined {
  const value: unknown = SCHEMA_DEFAULTS[key];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map(String).join(',');
  if (typeof value === 'object' && value !== null && 'width' in value && 'height' in value) return `${String(value.width)}x${String(value.height)}`;
  return String(value);
}

function envName(flag: string): string {
  return `STREAMGATE_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** One line per problem: the flag, where its value came from, what is accepted, and what was given (secrets excepted). */
function formatIssues(error: z.ZodError, given: Record<string, unknown>, sourceOf: (key: string) => string): string {
  return error.issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return `${sourceOf(issue.keys[0] ?? '')}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (the keys are the flags in camelCase, e.g. maxPeers)`;
      }
      const key = String(issue.path[0] ?? '');
      const spec = FLAGS.find((f) => f.key === key);
      const where = issue.path.length > 1 ? ` at ${issue.path.slice(1).join('.')}` : '';
      const value = given[key];
      const shown = issue.code === 'custom' || spec?.secret || value === undefined ? '' : `, got ${JSON.stringify(value)}`;
      return `--${spec?.flag ?? key} (from ${sourceOf(key)})${where}: ${issue.message}${shown}`;
    })
    .join('\n');
}

/** Commander's complaint about the command line, as one line in the same voice as the value errors. */
function commandLineError(err: CommanderError, operands: readonly string[]): ConfigError {
  switch (err.code) {
    case 'commander.unknownOption': {
      const [, flag, suggestion] = /'([^']*)'(?:\s*\(Did you mean ([^?]*)\?\))?/.exec(err.message) ?? [];
      return new ConfigError(`unknown flag ${flag ?? ''}${suggestion ? ` (did you mean ${suggestion}?)` : ''}`);
    }
    case 'commander.optionMissingArgument': {
      const flag = /'(--[\w-]+)/.exec(err.message)?.[1] ?? 'a flag';
      return new ConfigError(`${flag} needs a value`);
    }
    case 'commander.excessArguments':
      return new ConfigError(`unexpected argument ${operands.map((a) => JSON.stringify(a)).join(' ')}: every setting is a flag, e.g. --source test`);
    default:
      return new ConfigError(err.message.replace(/^error: /, '').replace(/\n/g, ' '));
  }
}

/**
 * Reads configuration with this precedence: CLI flag > environment variable > config file > default.
 * Throws ConfigError with a message naming the bad setting, where it came from and what is accepted, and
 * CommanderError (exit code 0) once --help is printed.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Config {
  const program = new Command('streamgate')
    .description('Stream a Linux desktop, an app or a test source to browsers over WebRTC.')
    .option('-c, --config <file>', 'JSON config file with the same keys as the flags (camelCase)')
    .addHelpText('after', '\nEvery flag can also be set as its environment variable (shown) or as a camelCase key of the --config file;\nflags win over the environment, which wins over the file.')
    .exitOverride()
    // Errors are thrown as ConfigError and printed once, by the caller.
    .configureOutput({ outputError: () => undefined });
  // Commander names a value after its flag; the config key may differ (--desktop collects `desktops`).
  const attribute = new Map<string, string>();
  for (const f of FLAGS) {
    const help = `${f.help} (default: ${f.defaultIs ?? defaultText(f.key) ?? 'none'})`;
    const option = new Option(`--${f.flag} ${f.switch ? '[value]' : '<value>'}`, help).env(envName(f.flag));
    // From the command line a repeated flag collects its values; from the environment it is one list.
    if (f.repeat) option.argParser((value: string, previous: unknown) => (Array.isArray(previous) ? [...(previous as string[]), value] : [value]));
    attribute.set(f.key, option.attributeName());
    program.addOption(option);
  }
  try {
    program.parse(argv as string[], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError && err.exitCode !== 0) throw commandLineError(err, program.args);
    throw err;
  }
  const cli = program.opts<Record<string, string | true | undefined>>();

  const file: Record<string, unknown> = {};
  const configPath = program.opts<{ config?: string }>().config ?? env.STREAMGATE_CONFIG;
  if (configPath) {
    try {
      Object.assign(file, JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>);
    } catch (err) {
      throw new ConfigError(`--config: cannot read the config file ${configPath}: ${(err as Error).message}`);
    }
  }

  const merged: Record<string, unknown> = { ...file };
  const origin: Record<string, string> = Object.fromEntries(Object.keys(file).map((k) => [k, `config file ${configPath}`]));
  for (const f of FLAGS) {
    const name = attribute.get(f.key)!;
    const value = cli[name];
    if (value === undefined) continue;
    const fromEnv = program.getOptionValueSource(name) === 'env';
    // A repeatable flag's environment variable is one comma-separated list.
    merged[f.key] = f.repeat && fromEnv && Array.isArray(value) ? (value as string[]).flatMap((v) => v.split(',')) : value;
    origin[f.key] = fromEnv ? `$${envName(f.flag)}` : 'command line';
  }
  if (merged.source === 'x11' && merged.display === undefined && env.DISPLAY) merged.display = env.DISPLAY;
  if (merged.source === 'x11' && merged.audioServer === undefined && env.PULSE_SERVER) merged.audioServer = env.PULSE_SERVER;

  const result = ConfigSchema.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(formatIssues(result.error, merged, (k) => origin[k] ?? 'default'));
  }
  if (result.data.jwtPublicKey) {
    try {
      createPublicKey(readFileSync(result.data.jwtPublicKey));
    } catch (err) {
      throw new ConfigError(`--jwt-public-key: cannot read a PEM public key from ${result.data.jwtPublicKey}: ${(err as Error).message}`);
    }
  }
  if (result.data.source === 'x11' && !result.data.display) {
    throw new ConfigError('--source x11 needs --display (or $DISPLAY) naming the X display to capture, e.g. --display :0');
  }
  return result.data;
}
