import type { ResolvedOptions } from './config.js';
import { StreamgateError } from './errors.js';
import type { StreamgateClientEvents } from './events.js';
import type { MetricsRecorder } from './metrics.js';

export type Emit = <K extends keyof StreamgateClientEvents>(event: K, arg: StreamgateClientEvents[K]) => void;

/** What the client's parts (signaling channel, receiving peer, facade) share: one set of options, counters and listeners. */
export class ClientContext {
  constructor(
    readonly options: ResolvedOptions,
    readonly metrics: MetricsRecorder,
    readonly emit: Emit,
  ) {}

  /** A failure found on this side: counted, logged and emitted; returned for the promise it fails. */
  localError(code: StreamgateError['code'], message: string, cause?: unknown, details?: string): StreamgateError {
    const error = new StreamgateError(code, message, 'client', details, undefined, cause === undefined ? undefined : { cause });
    this.metrics.errors++;
    this.options.logger.warn(`streamgate: ${message}`);
    this.emit('error', error);
    return error;
  }
}
