#!/usr/bin/env node
import { CommanderError } from 'commander';
import { ConfigError, loadConfig } from './config/load.js';
import { configureLogging, logger, rootLogger } from './log.js';
import { startApp } from './app.js';

/** Exit promptly on SIGTERM even if something refuses to stop: a supervisor waiting on us must not hang. */
const SHUTDOWN_DEADLINE_MS = 4000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.argv.slice(2));
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message.replace(/^/gm, 'streamgate: ')}; see --help\n`);
      process.exit(2);
    }
    throw err;
  }
  configureLogging(config.logLevel, config.logFormat);
  const log = logger('main');
  const app = await startApp(config);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error('shutdown deadline passed; exiting anyway');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    app.stop().then(
      () => {
        log.info('stopped');
        rootLogger.flush();
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** What to do about the start-up failures a person can fix; others are told as they are. */
function startFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'EADDRINUSE') return `${message}: another program uses that port; choose another with --port (0 picks a free one)`;
  if (code === 'EACCES') return `${message}: ports below 1024 need root; choose another with --port`;
  return message;
}

main().catch((err: unknown) => {
  // The stack is for developers: at --log-level debug it is in the log; the person gets the reason.
  rootLogger.debug({ err }, 'failed to start');
  process.stderr.write(`streamgate: failed to start: ${startFailure(err)}\n`);
  process.exit(1);
});
