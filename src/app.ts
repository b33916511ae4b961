import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { authConfigured, secureByDefault } from './config/exposure.js';
import type { Config } from './config/options.js';
import { startupNotice } from './config/startup-notice.js';
import { createHttpServer } from './http/http-server.js';
import { logger, logsAreForPeople } from './log.js';
import { SignalingServer } from './signaling/signaling-server.js';
import { startSource } from './source.js';
import { Authenticator } from './auth/authenticator.js';

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
  const source = await startSource(config);
  const signaling = new SignalingServer({ config, media: source.media, input: source.input, log: logger('signaling'), sourceName: source.name });
  const server: Server = createHttpServer({
    webRoot: config.webRoot ?? DEFAULT_WEB_ROOT,
    signaling,
    log: logger('http'),
    authenticator: Authenticator.fromSettings(config),
    publicMetrics: config.publicMetrics,
    allowedOrigins: config.allowedOrigins,
    tls: config.tlsCert && config.tlsKey ? { cert: config.tlsCert, key: config.tlsKey } : undefined,
    health: source.health,
    whep: { media: source.media, iceServers: config.iceServers },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (err) {
    await source.stop();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const notice = startupNotice(config, exposure, port);
  if (exposure.kind === 'insecure-no-auth') log.warn({ host: config.host, port }, 'serving without authentication beyond loopback (--insecure-no-auth)');
  if (exposure.kind === 'generated-token') log.info('auth is on with a generated token: the URL carrying it is on stdout');
  // On stdout, apart from the log on stderr: for the person who started the server, and kept out of log files.
  // The token and the warning always; the rest when a person reads the log (not in a collector's stream).
  if (notice.essential || logsAreForPeople()) process.stdout.write(`\n${notice.text}\n\n`);
  log.info({ host: config.host, port, source: config.source, tls: Boolean(config.tlsCert), auth: authConfigured(config), generatedToken: exposure.kind === 'generated-token' }, 'listening');

  return {
    port,
    async stop() {
      // Stop taking connections first, so nothing new arrives while the open ones are closed.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await signaling.shutdown();
      server.closeAllConnections();
      await closed;
      await source.stop();
    },
  };
}
