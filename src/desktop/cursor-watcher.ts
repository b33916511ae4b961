/**
 * Follows the desktop's mouse cursor for viewers that draw it themselves: the cursor's picture (a PNG
 * with its hotspot) each time it changes, through XFIXES cursor events, and the pointer position,
 * polled with QueryPointer (a motion event would need XInput2 to see motion over every window).
 */
import { EventEmitter } from 'node:events';
import { logger } from '../log.js';
import { SerialQueue } from '../util/serial-queue.js';
import { XConnection } from '../x11/x11-connection.js';
import { XFixes } from '../x11/xfixes.js';
import { argbToRgba, encodePng } from './png-encoder.js';

const log = logger('desktop.cursor');

export interface CursorShape {
  /** The X server's cursor serial: equal serials are the same picture. */
  serial: number;
  width: number;
  height: number;
  /** The hotspot: the pixel of the picture that sits on the pointer position. */
  xhot: number;
  yhot: number;
  png: Buffer;
}

export interface PointerPosition {
  x: number;
  y: number;
}

export interface CursorWatcherEvents {
  /** The cursor shown changed (also once at start). */
  cursor: [CursorShape];
  /** The pointer moved (only changes are reported). */
  position: [PointerPosition];
  /** The X connection ended; the watcher has stopped. `error` is null after stop(). */
  close: [Error | null];
}

export interface CursorWatcherOptions {
  /** How often the pointer position is polled. Default 50 ms (20 Hz). */
  pollIntervalMs?: number;
  /** How many cursor pictures are kept by serial. Default 64. */
  cacheSize?: number;
}

export class CursorWatcher extends EventEmitter<CursorWatcherEvents> {
  private readonly cache = new Map<number, CursorShape>();
  private readonly fetches = new SerialQueue();
  private shape: CursorShape | null = null;
  private pointer: PointerPosition | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private polling = false;
  /** Pictures fetched from the server and encoded, and cursor changes served from the cache. */
  readonly stats = { fetched: 0, cacheHits: 0 };

  private constructor(
    private readonly conn: XConnection,
    private readonly xfixes: XFixes,
    private readonly cacheSize: number,
  ) {
    super();
  }

  /** Connects to `display`, takes the current cursor, and starts following it. */
  static async start(display: string, options: CursorWatcherOptions = {}): Promise<CursorWatcher> {
    const pollIntervalMs = options.pollIntervalMs ?? 50;
    const cacheSize = options.cacheSize ?? 64;
    if (!(pollIntervalMs >= 5) || !Number.isInteger(cacheSize) || cacheSize < 1) throw new RangeError(`bad cursor watcher options: poll ${pollIntervalMs} ms, cache ${cacheSize}`);
    const conn = await XConnection.connect(display);
    let watcher: CursorWatcher;
    try {
      const xfixes = await XFixes.init(conn);
      watcher = new CursorWatcher(conn, xfixes, cacheSize);
      conn.on('event', (ev) => {
        const e = xfixes.decode(ev);
        if (e?.kind === 'cursor') watcher.onCursorChange(e.serial);
      });
      conn.on('x-error', (err) => log.debug({ code: err.error, seq: err.seq }, 'X error on the cursor connection'));
      conn.on('close', (err) => watcher.onClose(err));
      xfixes.selectCursorInput(conn.root);
      await watcher.fetch();
      await watcher.poll();
    } catch (err) {
      conn.destroy();
      throw err;
    }
    watcher.pollTimer = setInterval(() => void watcher.poll(), pollIntervalMs);
    return watcher;
  }

  /** The cursor shown now. */
  get current(): CursorShape | null {
    return this.shape;
  }

  /** The pointer position last polled. */
  get position(): PointerPosition | null {
    return this.pointer && { ...this.pointer };
  }

  /** Every cursor picture seen and still cached (for a viewer that joins late). */
  cached(serial: number): CursorShape | undefined {
    return this.cache.get(serial);
  }

  stop(): void {
    this.conn.destroy();
  }

  private onClose(err: Error | null): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.emit('close', err);
  }

  /** Through the queue even when cached: a fetch still under way must not show its older picture last. */
  private onCursorChange(serial: number): void {
    const task = async (): Promise<void> => {
      const known = this.cache.get(serial);
      if (!known) return this.fetch();
      this.stats.cacheHits++;
      this.cache.delete(serial); // re-inserted: the map's order is least recently used first
      this.cache.set(serial, known);
      this.show(known);
    };
    this.fetches.push(task).catch((err: Error) => {
      if (!this.conn.closed) log.warn({ err: err.message }, 'cursor image not available');
    });
  }

  /** Takes the current cursor from the server (its serial may be newer than the event that asked). */
  private async fetch(): Promise<void> {
    const image = await this.xfixes.getCursorImage();
    let shape = this.cache.get(image.serial);
    if (!shape) {
      shape = {
        serial: image.serial,
        width: image.width,
        height: image.height,
        xhot: image.xhot,
        yhot: image.yhot,
        // A hidden cursor is 0x0 on some servers: a 1x1 transparent picture says the same.
        png: image.width > 0 && image.height > 0 ? encodePng(image.width, image.height, argbToRgba(image.argb)) : encodePng(1, 1, new Uint8Array(4)),
      };
      this.stats.fetched++;
      this.cache.set(image.serial, shape);
      while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as number);
    }
    this.show(shape);
  }

  private show(shape: CursorShape): void {
    if (this.shape?.serial === shape.serial) return;
    this.shape = shape;
    this.emit('cursor', shape);
  }

  private async poll(): Promise<void> {
    if (this.polling || this.conn.closed) return;
    this.polling = true;
    try {
      const p = await this.conn.queryPointer();
      if (this.pointer?.x !== p.rootX || this.pointer?.y !== p.rootY) {
        this.pointer = { x: p.rootX, y: p.rootY };
        this.emit('position', { ...this.pointer });
      }
    } catch (err) {
      if (!this.conn.closed) log.debug({ err: (err as Error).message }, 'pointer poll failed');
    } finally {
      this.polling = false;
    }
  }
}
