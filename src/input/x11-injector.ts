import { EventEmitter } from 'node:events';
import { clampInt, EventMask, FakeEvent, XConnection, XEvent, type XRawEvent } from '../x11/x11-connection.js';
import { logger } from '../log.js';
import type { ClientMessageData, MouseButton } from '../protocol/index.js';
import { Keymap, type KeyLocation } from './keymap.js';
import { bindingRow, MOD_CLASSES, MOD_DEFAULT_KEYSYM, modClassOf, parseModifiers, resolveKey, XK, type ModClass, type ResolvedKey } from './keysyms.js';
import type { InputInjector, PeerInput, VideoSize } from './types.js';

const log = logger('input.x11');

/** Browser button names → X buttons (DESIGN.md: 0/1/2/3/4 → 1/2/3/8/9). */
export const X_BUTTON: Readonly<Record<MouseButton, number>> = { left: 1, middle: 2, right: 3, back: 8, forward: 9 };
const WHEEL = { up: 4, down: 5, left: 6, right: 7 } as const;
/** Most wheel notches injected for one event (the schema allows ±100). */
const MAX_NOTCHES = 100;
/** Most events held back while a spare keycode cannot be rebound yet; beyond, the oldest are dropped. */
const MAX_DEFERRED = 5000;

interface Deferred {
  peer: X11PeerInput;
  run: () => void;
  move: boolean;
}

export interface X11InputInjectorOptions {
  /**
   * The X display, or a function giving the current one: a virtual desktop may come back on another
   * number (`() => desktop.readyDisplay`). Null, or a throw, means "not now": the injector retries.
   */
  display: string | (() => string | null);
  /** Turn the server's key autorepeat off on connect (DESIGN.md: client repeats must not be doubled). Default true. */
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
  /**
   * A spare keycode is not rebound to another keysym within this many ms of its last use (clients
   * translate queued key events with the mapping current when they read them); input waits instead.
   * Default 200.
   */
  rebindGuardMs?: number;
}

export interface InjectorEvents {
  connected: [display: string];
  disconnected: [reason: string];
}

export interface InjectorStats {
  connected: boolean;
  display: string | null;
  screen: VideoSize | null;
  /** XTEST requests sent. */
  events: number;
  /** Mouse moves dropped because a newer one replaced them while the server lagged. */
  movesCoalesced: number;
  /** Keysyms bound to spare keycodes. */
  keysymsBound: number;
  /** Events that waited for a spare keycode to become reusable. */
  eventsDeferred: number;
  /** Keycodes available for keysyms missing from the keymap. */
  spareKeycodes: number;
  reconnects: number;
  peers: number;
}

interface Held {
  keycode: number;
  mod: ModClass | null;
}

/**
 * Mouse and keyboard into an X display through XTEST, over one long-lived `x11` connection.
 * Per-event work is a lookup and one 36-byte write; mouse moves are coalesced only when the server
 * falls behind (more than `maxUnackedEvents` not yet acknowledged by a round trip).
 * Keys and buttons are reference-counted across peers, so one peer's release never lifts what
 * another still holds, and every peer's holdings are released by its releaseAll().
 */
export class X11InputInjector extends EventEmitter<InjectorEvents> implements InputInjector {
  private conn: XConnection | null = null;
  private keymap: Keymap | null = null;
  private screenW = 0;
  private screenH = 0;
  private readonly keyDown = new Uint16Array(256);
  private readonly buttonDown = new Uint16Array(16);
  private capsLock = false;
  private capsClearOnRelease = false;
  private sent = 0;
  private acked = 0;
  private fenceInFlight = false;
  private pendingMove: [number, number] | null = null;
  /** peerKey → its PeerInput (forPeer hands out the same object for the same key). */
  private readonly peers = new Map<string, X11PeerInput>();
  /** Every PeerInput that may hold something (close() and a lost connection reach them all). */
  private readonly live = new Set<X11PeerInput>();
  private closed = false;
  private connecting: Promise<void> | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectDelay: number;
  private refreshTimer: NodeJS.Timeout | null = null;
  private bindsSinceRefresh = new Set<number>();
  private readonly maxUnacked: number;
  private readonly fenceAt: number;
  private counters = { events: 0, movesCoalesced: 0, keysymsBound: 0, eventsDeferred: 0, reconnects: 0, xErrors: 0 };
  private deferred: Deferred[] = [];
  private deferTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: X11InputInjectorOptions) {
    super();
    this.maxUnacked = Math.max(1, options.maxUnackedEvents ?? 64);
    this.fenceAt = Math.max(1, this.maxUnacked >> 1);
    this.reconnectDelay = options.reconnectDelayMs?.min ?? 200;
  }

  /** Creates an injector and connects it; rejects if the first connection fails. */
  static async create(options: X11InputInjectorOptions): Promise<X11InputInjector> {
    const injector = new X11InputInjector(options);
    try {
      await injector.start();
    } catch (err) {
      await injector.close();
      throw err;
    }
    return injector;
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
    this.reconnectDelay = this.options.reconnectDelayMs?.min ?? 200;
    this.start().catch(() => undefined);
  }

  get connected(): boolean {
    return this.conn !== null && this.keymap !== null;
  }

  /** The screen size coordinates are scaled to (follows RandR changes); null while disconnected. */
  get screenSize(): VideoSize | null {
    return this.connected ? { width: this.screenW, height: this.screenH } : null;
  }

  stats(): InjectorStats {
    return {
      connected: this.connected,
      display: this.conn?.display ?? null,
      screen: this.screenSize,
      events: this.counters.events,
      movesCoalesced: this.counters.movesCoalesced,
      keysymsBound: this.counters.keysymsBound,
      eventsDeferred: this.counters.eventsDeferred,
      spareKeycodes: this.keymap?.spareCount ?? 0,
      reconnects: this.counters.reconnects,
      peers: this.live.size,
    };
  }

  /** Resolves when the server has processed every event given so far, waiting ones included (tests, benchmarks). */
  async flush(): Promise<void> {
    while (this.deferred.length > 0 && this.conn) await new Promise((r) => setTimeout(r, 5));
    if (this.pendingMove && this.conn) {
      const [x, y] = this.pendingMove;
      this.pendingMove = null;
      this.fake(FakeEvent.Motion, 0, x, y);
    }
    await this.conn?.sync();
  }

  forPeer(peerKey: string, videoSize: () => VideoSize | null): PeerInput {
    let peer = this.peers.get(peerKey);
    if (peer) peer.videoSize = videoSize;
    else {
      peer = new X11PeerInput(this, peerKey, videoSize);
      this.peers.set(peerKey, peer);
    }
    this.live.add(peer);
    return peer;
  }

  /** Releases everything every peer holds, then closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const peer of [...this.live]) peer.releaseAll();
    this.closed = true;
    this.clearDeferred();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    const conn = this.conn;
    this.conn = null;
    this.keymap = null;
    await this.connecting?.catch(() => undefined);
    await conn?.close();
  }

  // ---- connection --------------------------------------------------------------------------

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
      this.screenW = geometry.width;
      this.screenH = geometry.height;
      this.keymap = new Keymap(mapping, conn.maxKeycode);
      this.capsLock = (pointer.mask & 0x2) !== 0;
      this.conn = conn;
      this.sent = this.acked = 0;
      this.fenceInFlight = false;
      if (this.options.releaseHeldOnConnect !== false) this.releaseStuck(keymapBits, pointer.mask);
    } catch (err) {
      this.conn = null;
      this.keymap = null;
      conn.destroy();
      throw err;
    }
    this.reconnectDelay = this.options.reconnectDelayMs?.min ?? 200;
    log.info({ display, width: this.screenW, height: this.screenH, spareKeycodes: this.keymap?.spareCount }, 'input connected');
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
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.options.reconnectDelayMs?.max ?? 5000, delay * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.counters.reconnects++;
      this.start().catch(() => undefined);
    }, delay);
  }

  private onClose(conn: XConnection, err: Error | null): void {
    if (conn !== this.conn) return;
    this.conn = null;
    this.keymap = null;
    this.keyDown.fill(0);
    this.buttonDown.fill(0);
    this.pendingMove = null;
    this.fenceInFlight = false;
    this.clearDeferred();
    for (const peer of this.live) peer.forget();
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
      // Keyboard mapping changed (ours or someone's): refresh, keeping bindings made meanwhile.
      if (this.refreshTimer) return;
      this.refreshTimer = setTimeout(() => {
        this.refreshTimer = null;
        this.refreshKeymap(conn);
      }, 50);
    }
  }

  private refreshKeymap(conn: XConnection): void {
    if (conn !== this.conn) return;
    this.bindsSinceRefresh = new Set();
    const since = this.bindsSinceRefresh;
    conn
      .getKeyboardMapping()
      .then((mapping) => {
        const old = this.keymap;
        if (conn !== this.conn || !old) return;
        const fresh = new Keymap(mapping, conn.maxKeycode, old);
        old.carryBindings(fresh, since);
        this.keymap = fresh;
      })
      .catch((err: Error) => log.debug({ err: err.message }, 'keymap refresh failed'));
  }

  // ---- injection primitives (all synchronous, no-ops while disconnected) -------------------

  /** @internal */
  get ready(): boolean {
    return this.conn !== null && this.keymap !== null;
  }

  private fake(type: number, detail: number, x = 0, y = 0): void {
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

  /** Maps a point in the peer's video space onto the screen, clamped; null for garbage. */
  point(x: number, y: number, video: VideoSize | null): [number, number] | null {
    if (!Number.isFinite(x) || !Number.isFinite(y)) return null;
    const w = this.screenW;
    const h = this.screenH;
    if (w <= 0 || h <= 0) return null;
    let sx = x;
    let sy = y;
    if (video && video.width > 0 && video.height > 0 && (video.width !== w || video.height !== h)) {
      sx = (x * w) / video.width;
      sy = (y * h) / video.height;
    }
    return [clampInt(sx, 0, w - 1), clampInt(sy, 0, h - 1)];
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

  pressButton(button: number): void {
    if (this.buttonDown[button]!++ === 0) this.fake(FakeEvent.ButtonPress, button);
  }

  releaseButton(button: number): void {
    const n = this.buttonDown[button]!;
    if (n === 0) return;
    this.buttonDown[button] = n - 1;
    if (n === 1) this.fake(FakeEvent.ButtonRelease, button);
  }

  wheel(button: number, notches: number): void {
    for (let i = 0; i < notches; i++) {
      this.fake(FakeEvent.ButtonPress, button);
      this.fake(FakeEvent.ButtonRelease, button);
    }
  }

  /**
   * Where a keysym is typed: its keycode and level, binding a spare keycode when it is missing
   * (`bindIfMissing`); `retryAt` when the only reusable spare keycode was used too recently.
   */
  locate(keysym: number, bindIfMissing: boolean): KeyLocation | { retryAt: number } | null {
    const keymap = this.keymap;
    const conn = this.conn;
    if (!keymap || !conn) return null;
    const now = performance.now();
    const found = keymap.lookup(keysym);
    if (found) {
      keymap.touch(found.keycode, now);
      return found;
    }
    if (!bindIfMissing) return null;
    const row = bindingRow(keysym);
    const result = keymap.bind(row, (k) => this.keyDown[k]! > 0, now, this.options.rebindGuardMs ?? 200);
    if (result === null) {
      log.warn({ keysym: keysym.toString(16) }, 'no spare keycode free for this keysym');
      return null;
    }
    if ('retryAt' in result) return result;
    conn.changeKeyboardMapping(result.keycode, row);
    this.bindsSinceRefresh.add(result.keycode);
    this.counters.keysymsBound++;
    return keymap.lookup(keysym) ?? null;
  }

  // ---- events waiting for a rebind -------------------------------------------------------

  /** @internal Input waits while an event waits for a spare keycode: order is kept across peers. */
  get deferring(): boolean {
    return this.deferred.length > 0;
  }

  /** @internal Queues an event behind the waiting ones (a move replaces the same peer's queued move). */
  enqueue(peer: X11PeerInput, run: () => void, move: boolean): void {
    const last = this.deferred.at(-1);
    if (move && last?.move && last.peer === peer) {
      last.run = run;
      this.counters.movesCoalesced++;
      return;
    }
    if (this.deferred.length >= MAX_DEFERRED) this.deferred.shift();
    this.deferred.push({ peer, run, move });
    this.counters.eventsDeferred++;
  }

  /** @internal Holds `run` (and everything after it) until `retryAt` (performance.now() time). */
  deferUntil(retryAt: number, peer: X11PeerInput, run: () => void): void {
    this.deferred.unshift({ peer, run, move: false });
    this.counters.eventsDeferred++;
    if (this.deferTimer) clearTimeout(this.deferTimer);
    this.deferTimer = setTimeout(() => this.drainDeferred(), Math.max(1, Math.ceil(retryAt - performance.now())));
  }

  private drainDeferred(): void {
    this.deferTimer = null;
    const queue = this.deferred;
    this.deferred = [];
    while (queue.length > 0) {
      queue.shift()!.run();
      if (this.deferred.length > 0) {
        // It had to wait again: the rest waits behind it.
        this.deferred.push(...queue);
        return;
      }
    }
  }

  /** @internal A peer releasing everything drops its waiting events first (they would press after). */
  dropDeferred(peer: X11PeerInput): void {
    if (this.deferred.length) this.deferred = this.deferred.filter((d) => d.peer !== peer);
    if (!this.deferred.length && this.deferTimer) {
      clearTimeout(this.deferTimer);
      this.deferTimer = null;
    }
  }

  private clearDeferred(): void {
    this.deferred = [];
    if (this.deferTimer) clearTimeout(this.deferTimer);
    this.deferTimer = null;
  }

  keycodeOf(keysym: number): number | null {
    return this.keymap?.lookup(keysym)?.keycode ?? null;
  }

  /** A press that always reaches the server (a held key is released first: X swallows a second press). */
  pressKey(keycode: number): void {
    if (this.keyDown[keycode]!++ > 0) this.fake(FakeEvent.KeyRelease, keycode);
    this.fake(FakeEvent.KeyPress, keycode);
    if (this.keymap?.keysymAt(keycode) === XK.Caps_Lock) {
      // XKB LockMods: the press sets Lock if it was off; the release clears it if it was on.
      if (!this.capsLock) this.capsLock = true;
      else this.capsClearOnRelease = true;
    }
  }

  releaseKey(keycode: number): void {
    const n = this.keyDown[keycode]!;
    if (n === 0) return;
    this.keyDown[keycode] = n - 1;
    if (n > 1) return;
    this.fake(FakeEvent.KeyRelease, keycode);
    if (this.keymap?.keysymAt(keycode) === XK.Caps_Lock) {
      if (this.capsClearOnRelease) this.capsLock = false;
      this.capsClearOnRelease = false;
      const conn = this.conn;
      conn
        ?.queryPointer()
        .then((p) => {
          if (conn === this.conn) this.capsLock = (p.mask & 0x2) !== 0;
        })
        .catch(() => undefined);
    }
  }

  /**
   * Presses `loc`. A symbol is typed at the level that gives it: Shift is pressed around it when
   * needed and not held, or lifted around it when held and it would change the symbol; Caps Lock
   * turns letters around.
   */
  typeKey(loc: KeyLocation, symbol: boolean): void {
    const keymap = this.keymap;
    if (!keymap) return;
    const kc = loc.keycode;
    if (!symbol) return this.pressKey(kc);
    let needShift = loc.level === 1;
    if (this.capsLock && keymap.capsMatters(kc)) needShift = !needShift;
    const shiftL = keymap.lookup(XK.Shift_L)?.keycode;
    const shiftR = keymap.lookup(XK.Shift_R)?.keycode;
    const heldShift = [shiftL, shiftR].filter((k): k is number => k !== undefined && this.keyDown[k]! > 0);
    if (needShift && heldShift.length === 0 && shiftL !== undefined) {
      this.fake(FakeEvent.KeyPress, shiftL);
      this.pressKey(kc);
      this.fake(FakeEvent.KeyRelease, shiftL);
    } else if (!needShift && heldShift.length > 0 && keymap.shiftMatters(kc)) {
      for (const s of heldShift) this.fake(FakeEvent.KeyRelease, s);
      this.pressKey(kc);
      for (const s of heldShift) this.fake(FakeEvent.KeyPress, s);
    } else this.pressKey(kc);
  }

  /** @internal A peer that holds nothing is forgotten; it comes back with its next key or click. */
  dropPeer(peerKey: string, peer: X11PeerInput): void {
    if (this.peers.get(peerKey) === peer) this.peers.delete(peerKey);
    this.live.delete(peer);
  }

  /** @internal */
  adopt(peer: X11PeerInput): void {
    this.live.add(peer);
  }
}

/** One peer's input; everything it holds is released by releaseAll(). */
export class X11PeerInput implements PeerInput {
  private readonly keys = new Map<string, Held>();
  private readonly buttons = new Set<number>();
  private wheelX = 0;
  private wheelY = 0;

  constructor(
    private readonly core: X11InputInjector,
    readonly peerKey: string,
    public videoSize: () => VideoSize | null,
  ) {}

  /** Keys and buttons this peer holds (for tests and diagnostics). */
  get holding(): { keys: number; buttons: number } {
    return { keys: this.keys.size, buttons: this.buttons.size };
  }

  mouseMove(event: ClientMessageData<'mouse-move'>): void {
    if (!this.core.ready) return;
    if (this.core.deferring) return this.core.enqueue(this, () => this.mouseMove(event), true);
    const p = this.core.point(event.x, event.y, this.safeVideoSize());
    if (p) this.core.motion(p[0], p[1], true);
  }

  mouseClick(event: ClientMessageData<'mouse-click'>): void {
    const core = this.core;
    if (!core.ready) return;
    core.adopt(this);
    if (core.deferring) return core.enqueue(this, () => this.mouseClick(event), false);
    const p = core.point(event.x, event.y, this.safeVideoSize());
    if (!p) return;
    const button = X_BUTTON[event.button ?? 'left'];
    if (button === undefined) return;
    this.reconcile(parseModifiers(event.modifiers), null, false);
    core.motion(p[0], p[1], false);
    switch (event.action ?? 'click') {
      case 'down':
        if (!this.buttons.has(button)) {
          this.buttons.add(button);
          core.pressButton(button);
        }
        break;
      case 'up':
        if (this.buttons.delete(button)) core.releaseButton(button);
        break;
      default:
        if (this.buttons.delete(button)) core.releaseButton(button);
        else {
          core.pressButton(button);
          core.releaseButton(button);
        }
    }
  }

  mouseWheel(event: ClientMessageData<'mouse-wheel'>): void {
    const core = this.core;
    if (!core.ready) return;
    if (core.deferring) return core.enqueue(this, () => this.mouseWheel(event), false);
    if (event.x !== undefined && event.y !== undefined) {
      const p = core.point(event.x, event.y, this.safeVideoSize());
      if (p) core.motion(p[0], p[1], false);
    }
    // Fractional notches (touchpads) add up until they make a whole one.
    this.wheelX = accumulate(this.wheelX, event.dx);
    this.wheelY = accumulate(this.wheelY, event.dy);
    const nx = Math.trunc(this.wheelX);
    const ny = Math.trunc(this.wheelY);
    this.wheelX -= nx;
    this.wheelY -= ny;
    if (ny) core.wheel(ny > 0 ? WHEEL.down : WHEEL.up, Math.min(MAX_NOTCHES, Math.abs(ny)));
    if (nx) core.wheel(nx > 0 ? WHEEL.right : WHEEL.left, Math.min(MAX_NOTCHES, Math.abs(nx)));
  }

  key(event: ClientMessageData<'key-press'>): void {
    const core = this.core;
    if (!core.ready) return;
    core.adopt(this);
    if (core.deferring) return core.enqueue(this, () => this.key(event), false);
    const resolved = resolveKey(event.key, event.code, event.key_code);
    const selfClass = resolved ? modClassOf(resolved.keysym) : null;
    const modifiers = parseModifiers(event.modifiers);
    const action = event.action;
    if (action === 'up') {
      const id = this.keyId(event, resolved, false);
      const held = id === null ? undefined : this.keys.get(id);
      if (held && id !== null) {
        this.keys.delete(id);
        core.releaseKey(held.keycode);
      } else if (selfClass) this.releaseSynthetic(selfClass);
      this.reconcile(modifiers, selfClass, true);
      return;
    }
    const loc = resolved ? core.locate(resolved.keysym, true) : null;
    if (loc && 'retryAt' in loc) return core.deferUntil(loc.retryAt, this, () => this.key(event));
    this.reconcile(modifiers, selfClass, true);
    if (!resolved || !loc) return;
    const id = this.keyId(event, resolved, true) ?? `x:${loc.keycode}`;
    const previous = this.keys.get(id);
    if (previous) {
      // A repeat (or a second down): release + press, as the server's own autorepeat would.
      this.keys.delete(id);
      core.releaseKey(previous.keycode);
    }
    core.typeKey(loc, resolved.symbol);
    if (action === 'down') this.keys.set(id, { keycode: loc.keycode, mod: selfClass });
    else core.releaseKey(loc.keycode); // absent action: press + release
  }

  releaseAll(): void {
    this.core.dropDeferred(this);
    // Ordinary keys first, then modifiers, then buttons: nothing typed with a stray modifier.
    const entries = [...this.keys.values()].sort((a, b) => (a.mod ? 1 : 0) - (b.mod ? 1 : 0));
    this.keys.clear();
    for (const held of entries) this.core.releaseKey(held.keycode);
    for (const b of this.buttons) this.core.releaseButton(b);
    this.buttons.clear();
    this.wheelX = this.wheelY = 0;
    this.core.dropPeer(this.peerKey, this);
  }

  /** @internal The connection is gone: the server no longer holds anything for us. */
  forget(): void {
    this.keys.clear();
    this.buttons.clear();
  }

  /**
   * Tracking key: `code`, else `key_code`, else the keycode the key is typed with
   * (so "!" down and "1" up name the same key). Never `key` itself.
   */
  private keyId(event: ClientMessageData<'key-press'>, resolved: ResolvedKey | null, pressing: boolean): string | null {
    if (event.code) return `c:${event.code}`;
    if (event.key_code !== undefined) return `k:${event.key_code}`;
    if (!resolved) return null;
    if (pressing) return null; // the caller uses the keycode it located
    const loc = this.core.locate(resolved.keysym, false);
    return loc && 'keycode' in loc ? `x:${loc.keycode}` : null;
  }

  /**
   * Makes the modifiers held match what the event says. Key events (`full`) release any extra
   * modifier; mouse events only release the ones they pressed themselves (a seed client sends
   * `modifiers: []` on every mouse event, which must not lift a Shift held through key events).
   */
  private reconcile(wanted: Set<ModClass> | null, skip: ModClass | null, full: boolean): void {
    if (!wanted) return;
    for (const c of MOD_CLASSES) {
      if (c === skip) continue;
      let holding = false;
      for (const h of this.keys.values()) {
        if (h.mod === c) {
          holding = true;
          break;
        }
      }
      if (wanted.has(c)) {
        if (holding) continue;
        const kc = this.core.keycodeOf(MOD_DEFAULT_KEYSYM[c]);
        if (kc === null) continue;
        this.core.pressKey(kc);
        this.keys.set(`mod:${c}`, { keycode: kc, mod: c });
      } else if (holding) {
        if (full) {
          for (const [id, h] of this.keys) {
            if (h.mod === c) {
              this.keys.delete(id);
              this.core.releaseKey(h.keycode);
            }
          }
        } else this.releaseSynthetic(c);
      }
    }
  }

  private releaseSynthetic(c: ModClass): void {
    const held = this.keys.get(`mod:${c}`);
    if (!held) return;
    this.keys.delete(`mod:${c}`);
    this.core.releaseKey(held.keycode);
  }

  private safeVideoSize(): VideoSize | null {
    try {
      return this.videoSize();
    } catch {
      return null;
    }
  }
}

function accumulate(acc: number, delta: number | undefined): number {
  if (delta === undefined || !Number.isFinite(delta)) return acc;
  const next = acc + delta;
  return Math.max(-MAX_NOTCHES, Math.min(MAX_NOTCHES, next));
}
