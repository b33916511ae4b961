import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** The process-wide root logger: JSON lines on stderr; level set once from configuration. */
export const rootLogger: Logger = pino(
  { name: 'streamgate', level: process.env.STREAMGATE_LOG_LEVEL ?? 'info', base: { pid: process.pid } },
  pino.destination({ dest: 2, sync: false }),
);

export function setLogLevel(level: LevelWithSilent): void {
  rootLogger.level = level;
}

/** A child logger for one module, e.g. `logger('media.pipeline')`. */
export function logger(module: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger.child({ module, ...bindings });
}
