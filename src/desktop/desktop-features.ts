/**
 * The desktop engines a viewer uses besides picture and input, started together for one X display: the
 * clipboard and the cursor watcher. Each is optional: one that cannot start (no xclip, no XFIXES) is logged
 * and left out, and the stream runs without it.
 */
import { logger } from '../log.js';
import { DesktopClipboard } from './clipboard.js';
import { CursorWatcher } from './cursor-watcher.js';

const log = logger('desktop.features');

export interface DesktopFeatureOptions {
  clipboard: boolean;
  maxClipboardBytes: number;
  cursor: boolean;
}

export class DesktopFeatures {
  private constructor(
    readonly clipboard: DesktopClipboard | null,
    readonly cursor: CursorWatcher | null,
  ) {}

  static async start(display: string, options: DesktopFeatureOptions): Promise<DesktopFeatures> {
    const optional = async <T>(wanted: boolean, what: string, start: () => Promise<T>): Promise<T | null> => {
      if (!wanted) return null;
      try {
        return await start();
      } catch (err) {
        log.warn({ err, display }, `${what} is unavailable; viewers go without it`);
        return null;
      }
    };
    const clipboard = await optional(options.clipboard, 'the clipboard', () => DesktopClipboard.start(display, { maxBytes: options.maxClipboardBytes }));
    const cursor = await optional(options.cursor, 'the cursor watcher', () => CursorWatcher.start(display));
    for (const [engine, what] of [[clipboard, 'clipboard'], [cursor, 'cursor watcher']] as const) {
      engine?.on('close', (err) => {
        if (err) log.warn({ err: err.message, display }, `the ${what}'s X connection ended`);
      });
    }
    return new DesktopFeatures(clipboard, cursor);
  }

  async stop(): Promise<void> {
    this.cursor?.stop();
    await this.clipboard?.stop();
  }
}
