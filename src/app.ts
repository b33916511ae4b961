import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { authConfigured, secureByDefault } from './config/exposure.js';
import type { Config } from './config/options.js';
import { startupNotice } from './config/startup-notice.js';
import { createHttpServer } from './http/http-server.js';
import { desktopsApi } from './http/desktops-api.js';
import { logger, logsAreForPeople } from './log.js';
import { registry } from './metrics.js';
import { registerMediaMetrics } from './media/metrics.js';
import { Authenticator } from './auth/authenticator.js';
import { ClusterNode } from './desktops/cluster-node.js';
import { DesktopManager } from './desktops/desktop-manager.js';
import { DesktopRouter } from './desktops/desktop-router.js';
import { LocalDesktops } from './desktops/local-desktops.js';
import { FileJail } from './files/index.js';

const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../web', import.meta.url));

export interface RunningApp {
  port: number;
  stop(): Promise<void>;
}

/**
 * Builds the layers bottom-up (desktops: source → media → input → signaling; then HTTP; then the cluster,
 * which needs the port) and tears them down top-down.
 * Exposed beyond loopback without auth, it runs with a generated token and prints the URL carrying it.
 */
export async function startApp(given: Config): Promise<RunningApp> {
  const log = logger('app');
  const { config, exposure } = secureByDefault(given);
  // Before the desktops: a missing folder fails the start with nothing to tear down.
  const files = {
    upload: config.uploadDir ? await FileJail.open(config.uploadDir, { maxUploadBytes: config.maxUploadSize }) : null,
    download: config.downloadDir ? await FileJail.open(config.downloadDir) : null,
  };
  // View-only share links are HS256 JWTs: signed with --jwt-secret, or with a secret made now when auth is a token.
  const shareSecret = config.jwtSecret ?? (config.authToken && !config.jwtPublicKey ? randomBytes(32).toString('base64url') : null);
  const desktops = await LocalDesktops.start(config, shareSecret);
  registerMediaMetrics(registry, desktops.mediaFigures());
  const router = new DesktopRouter(desktops);
  const manager = new DesktopManager(desktops, config.desktopIdleTimeout);
  let cluster: ClusterNode | null = null;
  const first = desktops.defaultDesktop;
  const server: Server = createHttpServer({
    webRoot: config.webRoot ?? DEFAULT_WEB_ROOT,
    signaling: router,
    log: logger('http'),
    authenticator: Authenticator.fromSettings(shareSecret && !config.jwtSecret ? { ...config, jwtSecret: shareSecret } : config),
    publicMetrics: config.publicMetrics,
    allowedOrigins: config.allowedOrigins,
    tls: config.tlsCert && config.tlsKey ? { cert: config.tlsCert, key: config.tlsKey } : undefined,
    health: () => ({
      ...desktops.defaultDesktop.source.health(),
      desktops: desktops.list().map((d) => d.summary()),
      ...(cluster ? { cluster: cluster.health() } : {}),
    }),
    desktopsApi: desktopsApi({ manager, cluster: () => cluster, log: logger('http.desktops') }),
    // WHEP viewers watch the node's first desktop (docs/protocol.md, "WHEP").
    firstDesktop: first.name,
    whep: { media: first.source.media, iceServers: config.iceServers, turnRest: config.turnRest },
    files,
    // Files and the clipboard over HTTP serve the desktop the session is on.
    sessionAccess: (id, token) => desktops.sessionAccess(id, token),
    clipboard: { clipboardOf: (name) => desktops.get(name)?.features?.clipboard ?? null, policy: config.clipboard },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (err) {
    await desktops.stop();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  if (config.redis) {
    cluster = await ClusterNode.start({ ...config, redis: config.redis }, { host: config.host, port, tls: Boolean(config.tlsCert) }, desktops);
    router.joinCluster(cluster);
    manager.joinCluster(cluster);
  }
  const notice = startupNotice(config, exposure, port);
  if (exposure.kind === 'insecure-no-auth') log.warn({ host: config.host, port }, 'serving without authentication beyond loopback (--insecure-no-auth)');
  if (exposure.kind === 'generated-token') log.info('auth is on with a generated token: the URL carrying it is on stdout');
  // On stdout, apart from the log on stderr: for the person who started the server, and kept out of log files.
  // The token and the warning always; the rest when a person reads the log (not in a collector's stream).
  if (notice.essential || logsAreForPeople()) process.stdout.write(`\n${notice.text}\n\n`);
  log.info(
    {
      host: config.host,
      port,
      source: config.source,
      desktops: desktops.list().map((d) => d.name),
      ...(cluster ? { node: cluster.nodeId, cluster: cluster.registry.state } : {}),
      tls: Boolean(config.tlsCert),
      auth: authConfigured(config),
      generatedToken: exposure.kind === 'generated-token',
    },
    'listening',
  );

  return {
    port,
    async stop() {
      // Stop taking connections first, so nothing new arrives while the open ones are closed.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      manager.stop();
      await cluster?.relays.shutdown();
      await desktops.closeConnections();
      router.close();
      server.closeAllConnections();
      await closed;
      // The names go before the desktops, so no node relays to a desktop that is stopping.
      await cluster?.stop();
      await desktops.stop();
    },
  };
}
