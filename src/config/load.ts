import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { CloseCode } from '../protocol/index.js';
import { ConfigSchema, type Config } from './options.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * flag name → config key; the environment variable is STREAMGATE_ + the flag in upper snake case.
 * A switch may stand alone on the command line (meaning true) or take true|false.
 */
const FLAGS: { flag: string; key: string; help: string; default?: string; switch?: true }[] = [
  { flag: 'host', key: 'host', help: 'address to listen on', default: '127.0.0.1' },
  { flag: 'port', key: 'port', help: 'HTTP + WebSocket port (0 = any free port)', default: '8080' },
  { flag: 'source', key: 'source', help: 'virtual (own Xvfb desktop) | test (test pattern + tone) | x11 (existing display)', default: 'virtual' },
  { flag: 'display', key: 'display', help: 'X display for --source x11 (default $DISPLAY)' },
  { flag: 'audio-server', key: 'audioServer', help: 'PulseAudio server whose output is streamed with --source x11 (default $PULSE_SERVER; silence without)' },
  { flag: 'resolution', key: 'resolution', help: 'virtual desktop / test pattern size', default: '1280x720' },
  { flag: 'app', key: 'app', help: 'command run inside the virtual desktop', default: 'xterm' },
  { flag: 'app-user', key: 'appUser', help: 'account the virtual desktop\'s app (and its PulseAudio) runs as when the server runs as root (default nobody; root keeps root)' },
  { flag: 'framerate', key: 'framerate', help: 'video frames per second', default: '30' },
  { flag: 'bitrate', key: 'bitrate', help: 'video bitrate in kbit/s', default: '2500' },
  { flag: 'log-level', key: 'logLevel', help: 'fatal|error|warn|info|debug|trace|silent', default: 'info' },
  { flag: 'heartbeat-interval', key: 'heartbeatInterval', help: 'ms between pings, told to clients in welcome', default: '30000' },
  { flag: 'liveness-timeout', key: 'livenessTimeout', help: `ms of silence before closing with ${CloseCode.LIVENESS_TIMEOUT} (default 3 × max(heartbeat, 30000))` },
  { flag: 'max-message-size', key: 'maxMessageSize', help: 'largest accepted frame in bytes', default: '65536' },
  { flag: 'ice-servers', key: 'iceServers', help: 'JSON RTCIceServer[] or comma-separated URLs (e.g. turn:host:3478)' },
  { flag: 'input', key: 'input', help: 'who may send input: all | first (first peer controls) | none', default: 'first' },
  { flag: 'max-peers', key: 'maxPeers', help: 'most WebSocket connections at once', default: '200' },
  { flag: 'rate-limit', key: 'rateLimit', help: 'messages per second per peer (burst 2×)', default: '100' },
  { flag: 'input-rate-limit', key: 'inputRateLimit', help: 'input events per second per peer (burst 2×)', default: '2000' },
  { flag: 'web-root', key: 'webRoot', help: 'folder served at / (default: the built viewer)' },
  { flag: 'resume-grace', key: 'resumeGrace', help: 'ms a dropped session (and its media) waits to be resumed', default: '15000' },
  { flag: 'max-peers-per-ip', key: 'maxPeersPerIp', help: 'most connections from one address', default: '50' },
  { flag: 'max-negotiations', key: 'maxNegotiations', help: 'offers being created at once; more wait their turn', default: '4' },
  { flag: 'auth-token', key: 'authToken', help: 'turn auth on: a shared secret token (grants the control role)' },
  { flag: 'jwt-secret', key: 'jwtSecret', help: 'turn auth on: accept HS256 JWTs signed with this secret' },
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
  { flag: 'upload-dir', key: 'uploadDir', help: 'folder the peer with the control role uploads files into over HTTP (off without)' },
  { flag: 'download-dir', key: 'downloadDir', help: 'folder the peer with the control role downloads files from over HTTP (off without)' },
  { flag: 'resize', key: 'resize', help: 'off | controller: the virtual desktop takes the size of the controlling viewer\'s window', default: 'off' },
  { flag: 'max-resolution', key: 'maxResolution', help: 'the largest size --resize controller may make the virtual desktop (default 2560x1440, at least --resolution)' },
  { flag: 'clipboard', key: 'clipboard', help: 'clipboard sharing with the peer in control: off | to-client | to-desktop | both', default: 'both' },
  { flag: 'max-clipboard-size', key: 'maxClipboardSize', help: 'largest clipboard content (text or PNG) in bytes, either way', default: String(8 * 1024 * 1024) },
  { flag: 'max-upload-size', key: 'maxUploadSize', help: 'largest upload in bytes', default: String(100 * 1024 * 1024) },
];

function envName(flag: string): string {
  return `STREAMGATE_${flag.toUpperCase().replace(/-/g, '_')}`;
}

function formatIssues(error: z.ZodError, sourceOf: (key: string) => string): string {
  return error.issues
    .map((issue) => {
      const key = String(issue.path[0] ?? '');
      const flag = FLAGS.find((f) => f.key === key)?.flag ?? key;
      return `  --${flag} (from ${sourceOf(key)}): ${issue.message}`;
    })
    .join('\n');
}

/**
 * Reads configuration with this precedence: CLI flag > environment variable > config file > default.
 * Throws ConfigError with a message naming the bad setting and where it came from.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Config {
  const program = new Command('streamgate')
    .description('Stream a Linux desktop, an app or a test source to browsers over WebRTC.')
    .option('-c, --config <file>', 'JSON config file with the same keys as the flags (camelCase)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const f of FLAGS) {
    const option = new Option(`--${f.flag} ${f.switch ? '[value]' : '<value>'}`, f.help).env(envName(f.flag));
    program.addOption(f.default === undefined ? option : option.default(undefined, f.default));
  }
  program.parse(argv as string[], { from: 'user' });
  const cli = program.opts<Record<string, string | true | undefined>>();

  const file: Record<string, unknown> = {};
  const configPath = program.opts<{ config?: string }>().config ?? env.STREAMGATE_CONFIG;
  if (configPath) {
    try {
      Object.assign(file, JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>);
    } catch (err) {
      throw new ConfigError(`Cannot read config file ${configPath}: ${(err as Error).message}`);
    }
  }

  const merged: Record<string, unknown> = { ...file };
  const origin: Record<string, string> = Object.fromEntries(Object.keys(file).map((k) => [k, `config file ${configPath}`]));
  for (const f of FLAGS) {
    const value = cli[f.key];
    if (value === undefined) continue;
    merged[f.key] = value;
    origin[f.key] = program.getOptionValueSource(f.key) === 'env' ? `$${envName(f.flag)}` : 'command line';
  }
  if (merged.source === 'x11' && merged.display === undefined && env.DISPLAY) merged.display = env.DISPLAY;
  if (merged.source === 'x11' && merged.audioServer === undefined && env.PULSE_SERVER) merged.audioServer = env.PULSE_SERVER;

  const result = ConfigSchema.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(`Invalid configuration:\n${formatIssues(result.error, (k) => origin[k] ?? 'default')}`);
  }
  if (result.data.jwtPublicKey) {
    try {
      createPublicKey(readFileSync(result.data.jwtPublicKey));
    } catch (err) {
      throw new ConfigError(`Invalid configuration:\n  --jwt-public-key: cannot read a PEM public key from ${result.data.jwtPublicKey}: ${(err as Error).message}`);
    }
  }
  if (result.data.source === 'x11' && !result.data.display) {
    throw new ConfigError('Invalid configuration:\n  --source x11 needs --display (or $DISPLAY) naming the X display to capture');
  }
  return result.data;
}
