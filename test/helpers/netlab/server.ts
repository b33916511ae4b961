/**
 * The real server inside the lab's server namespace, listening on the lab's server address: the one
 * launcher (test/helpers/server.ts), started through the lab so that destroy() also stops it.
 */
import { startServer, type TestServer } from '../server.js';
import { SERVER_ADDRESS, type NetLab } from './lab.js';

/** The namespace is the server's own: a fixed port cannot collide with anything. */
export const LAB_PORT = 8080;

export type LabServer = TestServer;

/**
 * `args` as for startServer. The lab's address is not loopback, so the server would require a generated
 * token: the lab is a private namespace nobody else reaches, and its clients connect without one.
 */
export function startLabServer(lab: NetLab, args: string[]): Promise<LabServer> {
  return startServer(['--insecure-no-auth', ...args], {}, {
    host: SERVER_ADDRESS,
    port: LAB_PORT,
    logLevel: 'info',
    spawn: (command, commandArgs, options) => lab.spawn('server', command, commandArgs, options),
  });
}
