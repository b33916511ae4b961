import { EventEmitter } from 'node:events';
import { EventMask, FakeEvent, XConnection, XEvent, type KeyboardMapping, type XRawEvent } from '../x11/x11-connection.js';
import { logger } from '../log.js';
import { RestartBackoff } from '../process/restart-backoff.js';
import type { ScreenSize } from './types.js';

const log = logger('input.x11');

export interface XtestLinkOptions {
  /**
   * The X display, or a function giving the current one: a virtual desktop may come back on another
   * number (`() => desktop.readyDisplay`). Null, or a throw, means "not now": the link retries.
   */
  display: string | (() => string | null);
  /**
   * Turn the server's key autorepeat off on connect: the browser repeats a held key itself, and a
   * server repeat on top would double it (docs/architecture.md, "XTEST and the X server"). Default true.
   */
  disableAutoRepeat?: boolean;
  /** Events sent but not yet known processed by the server before mouse moves are coalesced. Default 64. */
  maxUnackedEvents?: number;
  connectTimeoutMs?: number;
  /**
   * On every connect, release the keys and buttons the server shows held. XTEST presses outlive the
   * client that made them: after a crash or a dropped connection they would stay stuck. Default true.
   */
  releaseHeldOnConnect?: boolean;
  /** Reconnect delays after the connection is lost: doubled from min to max. Default 200 ms … 5 s. */
  reconnectDelayMs?: { min: number; max: number };
}

/** The keyboard's side of each connection: the link tells it what the server's keyboard is. */
export interface LinkedKeyboard {
  /** A connection is coming up; `pointerMask` is the server's modifier and button state. May throw (the connect fails). */
  attach(conn: XConnection, mapping: KeyboardMapping, pointerMask: number): void;
  /** The connection is gone (or never came up): nothing is held on the server for us any more. */
  detach(): void;
  /** Someone changed the server's keyboard mapping. */
  mappingChanged(conn: XConnection): void;
}

export interface LinkEvents {
  connected: [display: string];
  disconnected: [reason: string];
}

/**
 * One long-lived XTEST connection: connects (and reconnects with a backoff while the display is away),
 * sends fake input, and coalesces mouse moves only when the server falls behind (more than
 * `maxUnackedEvents` not yet acknowledged by a round trip). Per event: one 36-byte write.
 */
export class XtestLink extends EventEmitter<LinkEvents> {
  private conn: XConnection | null = null;
  private screenW = 0;
  private screenH = 0;
  private sent = 0;
  private acked = 0;
  private fenceInFlight = false;
  private pendingMove: [number, number] | null = null;
  private closed = false;
  private connecting: Promise<void> | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private backoff: RestartBackoff;
  private readonly maxUnacked: number;
  private readonly fenceAt: number;
  private epochCount = 0;
  readonly counters = { events: 0, movesCoalesced: 0, reconnects: 0, xErrors: 0 };

  constructor(
    private readonly options: XtestLinkOptions,
    private readonly keyboard: LinkedKeyboard,
  ) {
    super();
    this.maxUnacked = Math.max(1, options.maxUnackedEvents ?? 64);
    this.fenceAt = Math.max(1, this.maxUnacked >> 1);
    this.backoff = this.freshBackoff();
  }

  get connected(): boolean {
    return this.conn !== null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get display(): string | null {
    return this.conn?.display ?? null;
  }

  /** The screen's size (follows RandR changes); null while disconnected. */
  get screen(): ScreenSize | null {
    return this.conn ? { width: this.screenW, height: this.screenH } : null;
  }

  /** Goes up each time a connection is lost: whatever was pressed in an earlier epoch is held no more. */
  get epoch(): number {
    return this.epochCount;
  }

  /**
   * Connects. Rejects if this attempt fails, but keeps retrying in the background until close():
   * input starts working as soon as the display is there.
   */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('input injector closed'));
    if (this.conn) return Promise.resolve();
    if (!this.connecting) {
      this.connecting = this.connectOnce().finally(() => {
        this.connecting = null;
      });
      this.connecting.catch((err: Error) => {
        log.warn({ err: err.message }, 'cannot connect to the X display; retrying');
        this.scheduleReconnect();
      });
    }
    return this.connecting;
  }

  /** Tries to connect now (e.g. on the desktop's 'display-ready'), skipping the backoff. */
  reconnect(): void {
    if (this.closed || this.conn) return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.backoff = this.freshBackoff();
    this.start().catch(() => undefined);
  }

  /** Sends the move held back, then resolves when the server has processed everything sent. */
  async flush(): Promise<void> {
    if (this.pendingMove && this.conn) {
      const [x, y] = this.pendingMove;
      this.pendingMove = null;
      this.fake(FakeEvent.Motion, 0, x, y);
    }
    await this.conn?.sync();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const conn = this.conn;
    this.conn = null;
    await this.connecting?.catch(() => undefined);
    await conn?.close();
  }

  /** One XTEST event (a no-op while disconnected); a move held back goes first, so order is kept. */
  fake(type: number, detail: number, x = 0, y = 0): void {
    const conn = this.conn;
    if (!conn) return;
    if (type !== FakeEvent.Motion && this.pendingMove) {
      const [px, py] = this.pendingMove;
      this.pendingMove = null;
      conn.fakeInput(FakeEvent.Motion, 0, px, py);
      this.sent++;
    }
    conn.fakeInput(type, detail, x, y);
    this.sent++;
    this.counters.events++;
    this.ensureFence(conn);
  }

  /** `coalesce`: a plain move may be replaced by a newer one while the server lags; a click's never is. */
  motion(x: number, y: number, coalesce: boolean): void {
    if (coalesce && this.sent - this.acked >= this.maxUnacked) {
      if (this.pendingMove) this.counters.movesCoalesced++;
      this.pendingMove = [x, y];
      return;
    }
    if (this.pendingMove) {
      this.counters.movesCoalesced++;
      this.pendingMove = null;
    }
    this.fake(FakeEvent.Motion, 0, x, y);
  }

  private freshBackoff(): RestartBackoff {
    return new RestartBackoff(this.options.reconnectDelayMs?.min ?? 200, this.options.reconnectDelayMs?.max ?? 5000);
  }

  private async connectOnce(): Promise<void> {
    const display = typeof this.options.display === 'function' ? this.options.display() : this.options.display;
    if (!display) throw new Error('the X display is not available');
    const conn = await XConnection.connect(display, { xtest: true, timeoutMs: this.options.connectTimeoutMs ?? 5000 });
    if (this.closed) {
      conn.destroy();
      throw new Error('input injector closed');
    }
    conn.on('x-error', (err) => {
      this.counters.xErrors++;
      if (this.counters.xErrors <= 10 || this.counters.xErrors % 1000 === 0) {
        log.warn({ code: err.error, message: err.message, count: this.counters.xErrors }, 'X error on the input connection');
      }
    });
    conn.on('event', (ev) => this.onEvent(conn, ev));
    conn.on('close', (err) => this.onClose(conn, err));
    conn.selectInput(conn.root, EventMask.StructureNotify);
    if (this.options.disableAutoRepeat !== false) conn.setAutoRepeat(false);
    try {
      const [geometry, mapping, pointer, keymapBits] = await Promise.all([
        conn.getGeometry(),
        conn.getKeyboardMapping(),
        conn.queryPointer(),
        conn.queryKeymap(),
      ]);
      // close() may have run while the replies were awaited: it saw no connection to close, so this one must not be kept.
      if (this.closed) throw new Error('input injector closed');
      this.screenW = geometry.width;
      this.screenH = geometry.height;
      this.keyboard.attach(conn, mapping, pointer.mask);
      this.conn = conn;
      this.sent = this.acked = 0;
      this.fenceInFlight = false;
      if (this.options.releaseHeldOnConnect !== false) this.releaseStuck(keymapBits, pointer.mask);
    } catch (err) {
      this.conn = null;
      this.keyboard.detach();
      conn.destroy();
      throw err;
    }
    // A connection that came up at all means the display is back: the next loss retries quickly again.
    this.backoff = this.freshBackoff();
    this.emit('connected', display);
  }

  /** Releases keys and buttons 1–5 the server shows down (nobody of ours holds anything yet). */
  private releaseStuck(keys: Uint8Array, pointerMask: number): void {
    const stuck: number[] = [];
    keys.forEach((byte, i) => {
      for (let b = 0; byte && b < 8; b++) if (byte & (1 << b)) stuck.push(i * 8 + b);
    });
    for (const kc of stuck) this.fake(FakeEvent.KeyRelease, kc);
    for (let b = 1; b <= 5; b++) if (pointerMask & (0x80 << b)) this.fake(FakeEvent.ButtonRelease, b);
    if (stuck.length || pointerMask & 0x1f00) log.info({ keys: stuck, buttons: (pointerMask >> 8) & 0x1f }, 'released keys and buttons left held on the display');
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer || this.conn) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.counters.reconnects++;
      this.start().catch(() => undefined);
    }, this.backoff.next());
  }

  private onClose(conn: XConnection, err: Error | null): void {
    if (conn !== this.conn) return;
    this.conn = null;
    this.epochCount++;
    this.pendingMove = null;
    this.fenceInFlight = false;
    this.keyboard.detach();
    const reason = err?.message ?? 'closed';
    log.warn({ display: conn.display, reason }, 'input connection lost');
    this.emit('disconnected', reason);
    this.scheduleReconnect();
  }

  private onEvent(conn: XConnection, ev: XRawEvent): void {
    if (ev.type === XEvent.ConfigureNotify && ev.wid1 === conn.root && ev.width && ev.height) {
      this.screenW = ev.width;
      this.screenH = ev.height;
    } else if (ev.type === XEvent.MappingNotify && ev.request === 1) {
      this.keyboard.mappingChanged(conn);
    }
  }

  /**
   * One round trip in flight at a time tells how far the server has got. It is only sent once half
   * the allowance is used: a round trip per event would cost more than the event itself.
   */
  private ensureFence(conn: XConnection): void {
    if (this.fenceInFlight || (this.sent - this.acked < this.fenceAt && !this.pendingMove)) return;
    this.fenceInFlight = true;
    const mark = this.sent;
    const settle = (): void => {
      if (conn !== this.conn) return;
      this.fenceInFlight = false;
      this.acked = mark;
      if (this.pendingMove && this.sent - this.acked < this.maxUnacked) {
        const [x, y] = this.pendingMove;
        this.pendingMove = null;
        this.fake(FakeEvent.Motion, 0, x, y);
      } else this.ensureFence(conn);
    };
    conn.sync(2000).then(settle, settle);
  }
}
