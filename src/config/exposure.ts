import { randomBytes } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { Config } from './options.js';

/**
 * How the server is reachable, and so how it guards the desktop. On loopback only local users reach it and
 * it stays open as it always was; on any other address it never serves the desktop to anyone who can reach
 * the port unless told to (--insecure-no-auth): without configured auth, it makes up a token, Jupyter-style.
 */
export type Exposure =
  | { kind: 'loopback' }
  | { kind: 'authenticated' }
  | { kind: 'generated-token'; token: string }
  | { kind: 'insecure-no-auth' };

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** `localhost`, 127.0.0.0/8, ::1 (bracketed or not, IPv4-mapped too). Names other than localhost are not trusted to be. */
export function isLoopback(host: string): boolean {
  const address = host.replace(/^\[(.*)\]$/, '$1');
  if (address.toLowerCase() === 'localhost') return true;
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export function authConfigured(config: Pick<Config, 'authToken' | 'jwtSecret' | 'jwtPublicKey'>): boolean {
  return Boolean(config.authToken || config.jwtSecret || config.jwtPublicKey);
}

/** The configuration to run with: `config`, with a generated --auth-token when it is exposed without auth. */
export function secureByDefault(config: Config): { config: Config; exposure: Exposure } {
  if (authConfigured(config)) return { config, exposure: { kind: 'authenticated' } };
  if (isLoopback(config.host)) return { config, exposure: { kind: 'loopback' } };
  if (config.insecureNoAuth) return { config, exposure: { kind: 'insecure-no-auth' } };
  // 192 bits: no guessing it through the rate limits.
  const token = randomBytes(24).toString('base64url');
  return { config: { ...config, authToken: token }, exposure: { kind: 'generated-token', token } };
}
