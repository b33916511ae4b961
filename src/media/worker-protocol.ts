/**
 * The IPC contract between the media service and a pipeline worker (pipeline-worker.ts).
 * The worker gets its WorkerConfig as JSON in argv[2]; everything later goes over the IPC channel.
 */

export interface WorkerConfig {
  /** A gst-launch-1.0 pipeline description. */
  launch: string;
  /** Runtime control of a video encoder; absent for audio. */
  control?: {
    /** Element name of the encoder (bitrate). */
    encoder: string;
    bitrateProperty: string;
    /** The encoder's bitrate unit per kbit/s (x264enc: kbit/s, vp8enc: bit/s). */
    unitsPerKbit: number;
    /** Element whose sink pad receives the upstream force-key-unit event. */
    keyUnitElement: string;
    /** The capture element whose `show-pointer` draws the desktop's pointer into the picture (X sources). */
    pointerElement?: string;
  };
}

export type ParentMessage =
  | { type: 'keyframe' }
  | { type: 'bitrate'; kbps: number }
  /** Draw the desktop's pointer into the picture or not, from the next frame on (ximagesrc reads it per frame). */
  | { type: 'show-pointer'; show: boolean }
  | { type: 'stop' };

export type WorkerMessage =
  /** A fatal pipeline error; the worker exits right after. */
  | { type: 'error'; message: string }
  /** CPU time the worker process has used so far (µs, user + system), sent periodically. */
  | { type: 'usage'; cpuMicros: number };

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as Record<string, unknown>;
  switch (message.type) {
    case 'error':
      return typeof message.message === 'string';
    case 'usage':
      return typeof message.cpuMicros === 'number';
    default:
      return false;
  }
}

export function isParentMessage(value: unknown): value is ParentMessage {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as Record<string, unknown>;
  switch (message.type) {
    case 'keyframe':
    case 'stop':
      return true;
    case 'bitrate':
      return typeof message.kbps === 'number' && Number.isFinite(message.kbps) && message.kbps > 0;
    case 'show-pointer':
      return typeof message.show === 'boolean';
    default:
      return false;
  }
}
