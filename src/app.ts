import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { authConfigured, exposureNotice, secureByDefault } from './config/exposure.js';
import type { Config } from './config/options.js';
import { createHttpServer } from './http/http-server.js';
import { logger } from './log.js';
import { SignalingServer } from './signaling/signaling-server.js';
import { startSource } from './source.js';
import { Authenticator } from './auth/authenticator.js';
import { FileJail } from './files/index.js';
import { DesktopFeatures } from './desktop/index.js';

const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../web', import.meta.url));

export interface RunningApp {
  port: number;
  stop(): Promise<void>;
}

/**
 * Builds the layers bottom-up (source → media → input → signaling → HTTP) and tears them down top-down.
 * Exposed beyond loopback without auth, it runs with a generated token and prints the URL carrying it.
 */
export async function startApp(given: Config): Promise<RunningApp> {
  const log = logger('app');
  const { config, exposure } = secureByDefault(given);
  // Before the source: a missing folder fails the start with nothing to tear down.
  const files = {
    upload: config.uploadDir ? await FileJail.open(config.uploadDir, { maxUploadBytes: config.maxUploadSize }) : null,
    download: config.downloadDir ? await FileJail.open(config.downloadDir) : null,
  };
  const source = await startSource(config);
  // View-only share links are HS256 JWTs: signed with --jwt-secret, or with a secret made now when auth is a token.
  const shareSecret = config.jwtSecret ?? (config.authToken && !config.jwtPublicKey ? randomBytes(32).toString('base64url') : null);
  const display = source.display();
  const features = display ? await DesktopFeatures.start(display, { clipboard: config.clipboard !== 'off', maxClipboardBytes: config.maxClipboardSize, cursor: true }) : null;
  const signaling = new SignalingServer({ config, media: source.media, input: source.input, log: logger('signaling'), sourceName: source.name, shareSecret, screen: source.screen });
  const server: Server = createHttpServer({
    webRoot: config.webRoot ?? DEFAULT_WEB_ROOT,
    signaling,
    log: logger('http'),
    authenticator: Authenticator.fromSettings(shareSecret && !config.jwtSecret ? { ...config, jwtSecret: shareSecret } : config),
    publicMetrics: config.publicMetrics,
    allowedOrigins: config.allowedOrigins,
    tls: config.tlsCert && config.tlsKey ? { cert: config.tlsCert, key: config.tlsKey } : undefined,
    health: source.health,
    files,
    sessionAccess: (id, token) => signaling.sessionAccess(id, token),
    clipboard: { clipboard: features?.clipboard ?? null, policy: config.clipboard },
  });
  if (features?.cursor) signaling.watchCursor(features.cursor);
  if (features?.clipboard && (config.clipboard === 'both' || config.clipboard === 'to-client')) signaling.watchClipboard(features.clipboard);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (err) {
    await features?.stop();
    await source.stop();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const notice = exposureNotice(config, exposure, port);
  if (exposure.kind === 'insecure-no-auth') log.warn({ host: config.host, port }, 'serving without authentication beyond loopback (--insecure-no-auth)');
  if (exposure.kind === 'generated-token') log.info('auth is on with a generated token: the URL carrying it is on stdout');
  // On stdout, apart from the JSON log on stderr: for the person who started the server, and kept out of log files.
  if (notice) process.stdout.write(`\n${notice}\n\n`);
  log.info({ host: config.host, port, source: config.source, tls: Boolean(config.tlsCert), auth: authConfigured(config), generatedToken: exposure.kind === 'generated-token' }, 'listening');

  return {
    port,
    async stop() {
      // Stop taking connections first, so nothing new arrives while the open ones are closed.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await signaling.shutdown();
      server.closeAllConnections();
      await closed;
      await features?.stop();
      await source.stop();
    },
  };
}
