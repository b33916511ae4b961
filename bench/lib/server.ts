/**
 * The server as benchmarks start it: the launcher the tests use (test/helpers/server.ts), at log
 * level warn unless asked otherwise — a log line per event would be part of what is measured.
 */
import { startServer, type LaunchOptions, type TestServer } from '../../test/helpers/server.js';

export { health } from '../../test/helpers/server.js';

export type BenchServer = TestServer;

export interface ServerOptions extends LaunchOptions {
  /** Extra environment, e.g. GST_TRACERS. */
  env?: NodeJS.ProcessEnv;
}

export function startBenchServer(args: string[], options: ServerOptions = {}): Promise<BenchServer> {
  const { env, ...launch } = options;
  return startServer(args, env, { logLevel: 'warn', ...launch });
}
