import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { prettyFactory } from 'pino-pretty';

export type { Logger };

/** As configured (`auto` = pretty when stderr is a terminal); see `configureLogging`. */
export type LogFormat = 'auto' | 'pretty' | 'json';

/**
 * Where every logger writes, on stderr: JSON lines until configured, then JSON lines or lines for a person.
 * The destination is chosen after the command line is read, yet modules create their loggers when they
 * are imported: they all share this one stream, so switching it here switches them all.
 *
 * Pretty lines are formatted in this thread, synchronously (pino-pretty's prettyFactory), not by a
 * transport in a worker thread: a worker would still be formatting when process.exit() ends the server,
 * and the last lines (the reason it stopped) would be lost. A terminal's log volume costs nothing to format.
 */
class StderrSink implements DestinationStream {
  /** Asynchronous, flushed at exit by pino: a collector's volume of JSON must not block the event loop. */
  private readonly json = pino.destination({ dest: 2, sync: false });
  private pretty: { format: (line: string) => string; out: DestinationStream } | null = null;

  write(line: string): void {
    if (this.pretty) this.pretty.out.write(this.pretty.format(line));
    else this.json.write(line);
  }

  flush(callback?: (err?: Error) => void): void {
    this.json.flush(callback);
  }

  usePretty(): void {
    this.pretty = {
      format: prettyFactory({
        // hasColors() follows NO_COLOR, FORCE_COLOR and the terminal's capabilities.
        colorize: process.stderr.isTTY ? process.stderr.hasColors() : false,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,name,module',
        messageFormat: '{if module}{module}: {end}{msg}',
        singleLine: true,
      }),
      out: pino.destination({ dest: 2, sync: true }),
    };
  }
}

const sink = new StderrSink();
let prettyLines = false;

/** The process-wide root logger; level and format set once from configuration (`configureLogging`). */
export const rootLogger: Logger = pino({ name: 'streamgate', level: process.env.STREAMGATE_LOG_LEVEL ?? 'info', base: { pid: process.pid } }, sink);

export function configureLogging(level: LevelWithSilent, format: LogFormat): void {
  rootLogger.level = level;
  prettyLines = format === 'pretty' || (format === 'auto' && process.stderr.isTTY);
  if (prettyLines) sink.usePretty();
}

/** The log is read by a person (pretty lines), not a collector: worth telling them things in prose too. */
export function logsAreForPeople(): boolean {
  return prettyLines;
}

/** A child logger for one module, e.g. `logger('media.pipeline')`. */
export function logger(module: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger.child({ module, ...bindings });
}
