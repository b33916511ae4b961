/**
 * coturn's `turnserver` in the lab's server namespace: a TURN relay on the server's address with one
 * static long-term user, no TLS/DTLS, no admin CLI, logging to stdout, its database and pid file in the
 * lab's temp dir (never the system's).
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { SERVER_ADDRESS, type NetLab } from './lab.js';

export const TURN_PORT = 3478;
export const TURN_USER = 'u';
export const TURN_PASSWORD = 'p';
export const TURN_REALM = 'streamgate';

export interface LabTurn {
  /** For the server's --ice-servers (JSON RTCIceServer[]). */
  iceServers: { urls: string; username?: string; credential?: string }[];
  process: ChildProcess;
  log(): string;
}

/**
 * `authSecret`: coturn checks TURN REST credentials (use-auth-secret + static-auth-secret) instead of the
 * static user; `iceServers` then names the URL alone, for the server's --turn-secret to mint credentials.
 */
export async function startLabTurn(lab: NetLab, options: { authSecret?: string } = {}): Promise<LabTurn> {
  const auth = options.authSecret === undefined
    ? ['--lt-cred-mech', '--user', `${TURN_USER}:${TURN_PASSWORD}`]
    : ['--use-auth-secret', '--static-auth-secret', options.authSecret];
  const child = lab.spawn('server', 'turnserver', [
    '-n',
    '-v', // also logs "UDP listener opened", the sign it is ready, and each allocation
    '--no-cli',
    '--no-tls',
    '--no-dtls',
    '--listening-ip', SERVER_ADDRESS,
    '--relay-ip', SERVER_ADDRESS,
    '--listening-port', String(TURN_PORT),
    '--min-port', '49152',
    '--max-port', '49999',
    ...auth,
    '--realm', TURN_REALM,
    '--log-file', 'stdout',
    '--simple-log',
    '--db', join(lab.dir, 'turndb'),
    '--pidfile', join(lab.dir, 'turnserver.pid'),
  ]);
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`turnserver did not open its UDP listener within 15 s; log:\n${log}`)), 15_000);
    const onData = (chunk: Buffer): void => {
      log = (log + chunk.toString()).slice(-200_000);
      if (new RegExp(`UDP listener opened on\\s*:?\\s*${SERVER_ADDRESS.replace(/\./g, '\\.')}:${TURN_PORT}`, 'i').test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`turnserver exited with ${code}; log:\n${log}`));
    });
  });
  const urls = `turn:${SERVER_ADDRESS}:${TURN_PORT}?transport=udp`;
  return {
    iceServers: [options.authSecret === undefined ? { urls, username: TURN_USER, credential: TURN_PASSWORD } : { urls }],
    process: child,
    log: () => log,
  };
}
