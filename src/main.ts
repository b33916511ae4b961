#!/usr/bin/env node
import { CommanderError } from 'commander';
import { ConfigError, loadConfig } from './config/load.js';
import { logger, rootLogger, setLogLevel } from './log.js';
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
      process.stderr.write(`streamgate: ${err.message}\nRun with --help for the list of options.\n`);
      process.exit(2);
    }
    throw err;
  }
  setLogLevel(config.logLevel);
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

main().catch((err: unknown) => {
  process.stderr.write(`streamgate: failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
