/** The X11 client layer, below desktop (the virtual display's monitor) and input (XTEST injection), which both use it. */
import { EventEmitter } from 'node:events';
import x11, { type XClient, type XProtocolError, type XRawEvent } from 'x11';
import { logger } from '../log.js';

export type { XRawEvent, XProtocolError };

const log = logger('x11');

/** Core event codes and masks used by this project. */
export const XEvent = {
  KeyPress: 2,
  KeyRelease: 3,
  ButtonPress: 4,
  ButtonRelease: 5,
  MotionNotify: 6,
  CreateNotify: 16,
  DestroyNotify: 17,
  MapNotify: 19,
  ConfigureNotify: 22,
  MappingNotify: 34,
} as const;

export const EventMask = {
  KeyPress: 0x1,
  KeyRelease: 0x2,
  ButtonPress: 0x4,
  ButtonRelease: 0x8,
  PointerMotion: 0x40,
  StructureNotify: 0x20000,
  SubstructureNotify: 0x80000,
  FocusChange: 0x200000,
} as const;

/** XTEST FakeInput event types. */
export const FakeEvent = { KeyPress: 2, KeyRelease: 3, ButtonPress: 4, ButtonRelease: 5, Motion: 6 } as const;

export interface KeyboardMapping {
  minKeycode: number;
  keysymsPerKeycode: number;
  /** keysyms[(keycode - minKeycode) * keysymsPerKeycode + column]; 0 = NoSymbol. */
  keysyms: Uint32Array;
}

export interface XConnectionEvents {
  /** The socket closed (the server died, or close() was called). `error` says why when unexpected. */
  close: [Error | null];
  event: [XRawEvent];
  /** An X protocol error nobody waited for (e.g. BadValue of a request without reply). */
  'x-error': [XProtocolError];
}

interface Pending {
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_TIMEOUT_MS = 5000;

/**
 * One X11 client connection built on npm `x11` for the handshake and the reply/event dispatch.
 * Requests are packed here, with three fixes over the library:
 * - every request advances the 16-bit sequence number with wrap-around (the library's XTEST
 *   FakeInput does `seq_num++` without wrap: after 65 536 requests every reply would go unmatched);
 * - every argument is range-checked before anything is counted or written: a throwing pack after
 *   the sequence number advanced desynchronises replies and hangs every later request
 *   (docs/architecture.md, "XTEST and the X server");
 * - every reply has a timeout, and every pending reply is rejected when the socket closes.
 * An 'error' listener is always attached.
 */
export class XConnection extends EventEmitter<XConnectionEvents> {
  readonly root: number;
  readonly minKeycode: number;
  readonly maxKeycode: number;
  private readonly pending = new Map<number, Pending>();
  private xtestOpcode = 0;
  private closedFlag = false;

  private constructor(
    readonly display: string,
    private readonly client: XClient,
  ) {
    super();
    const screen = client.display.screen[0];
    if (!screen) throw new Error(`X display ${display} has no screen`);
    this.root = screen.root;
    this.minKeycode = client.display.min_keycode;
    this.maxKeycode = client.display.max_keycode;
    client.on('event', (ev: XRawEvent) => this.emit('event', ev));
    client.on('error', (err: XProtocolError) => this.onClientError(err));
    const onGone = (err: Error | null) => this.markClosed(err);
    client.stream.on('close', () => onGone(this.closing ? null : new Error(`X connection to ${display} closed`)));
    client.stream.on('error', (err) => onGone(err));
  }

  private closing = false;

  /** Connects and loads the extensions asked for ('XTEST'). Rejects within `timeoutMs`. */
  static connect(display: string, options: { timeoutMs?: number; xtest?: boolean } = {}): Promise<XConnection> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise<XConnection>((resolve, reject) => {
      let settled = false;
      let client: XClient | undefined;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        try {
          client?.stream?.destroy();
        } catch {
          /* not connected yet */
        }
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error(`X display ${display}: no answer within ${timeoutMs} ms`)), timeoutMs);
      try {
        client = x11.createClient({ display, disableBigRequests: true }, (err) => {
          if (settled) return;
          if (err || !client) return fail(err ?? new Error(`X display ${display}: connect failed`));
          let conn: XConnection;
          try {
            conn = new XConnection(display, client);
          } catch (e) {
            return fail(e as Error);
          }
          const finish = (): void => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve(conn);
          };
          if (!options.xtest) return finish();
          conn
            .queryExtension('XTEST')
            .then((ext) => {
              if (!ext.present) throw new Error(`X display ${display} has no XTEST extension`);
              conn.xtestOpcode = ext.majorOpcode;
              finish();
            })
            .catch((e: Error) => {
              conn.destroy();
              fail(e);
            });
        });
      } catch (e) {
        return fail(e as Error);
      }
      // Attached at once: before the handshake completes, a socket error is also emitted here.
      client.on('error', (err: Error) => {
        if (!settled) fail(err);
      });
    });
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  // ---- raw request plumbing ----------------------------------------------------------------

  private nextSeq(): number {
    const c = this.client;
    c.seq_num = (c.seq_num + 1) & 0xffff;
    return c.seq_num;
  }

  /** Sends a request that has no reply. The buffer must be a complete, valid request. */
  send(request: Buffer): void {
    if (this.closedFlag) return;
    this.nextSeq();
    this.client.stream.write(request);
  }

  /** Sends a request with a reply; `parse` gets the reply after its 8-byte header and the header's byte 1. */
  request<T>(request: Buffer, parse: (data: Buffer, opt: number) => T, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
    if (this.closedFlag) return Promise.reject(new Error(`X connection to ${this.display} is closed`));
    return new Promise<T>((resolve, reject) => {
      const seq = this.nextSeq();
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        delete this.client.replies[seq];
        reject(new Error(`X request (opcode ${request[0]}) got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(seq, { reject, timer });
      this.client.replies[seq] = [
        (data: Buffer, opt: number) => parse(data, opt),
        (err, result) => {
          clearTimeout(timer);
          this.pending.delete(seq);
          if (err) reject(err);
          else resolve(result as T);
          return true; // handled: not re-emitted as 'error'
        },
      ];
      this.client.stream.write(request);
    });
  }

  private onClientError(err: XProtocolError | Error): void {
    if ((err as XProtocolError).error !== undefined && (err as XProtocolError).seq !== undefined) {
      if (this.listenerCount('x-error') > 0) this.emit('x-error', err as XProtocolError);
      else log.warn({ display: this.display, code: (err as XProtocolError).error, message: err.message }, 'X protocol error');
      return;
    }
    this.markClosed(err);
  }

  private markClosed(err: Error | null): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const [seq, p] of this.pending) {
      clearTimeout(p.timer);
      delete this.client.replies[seq];
      p.reject(new Error(`X connection to ${this.display} closed`));
    }
    this.pending.clear();
    this.client.stream.destroy();
    this.emit('close', err);
  }

  destroy(): void {
    this.closing = true;
    this.markClosed(null);
  }

  /** Waits until the server has processed everything sent so far, then closes. */
  async close(): Promise<void> {
    if (this.closedFlag) return;
    try {
      await this.sync(1000);
    } catch {
      /* closing anyway */
    }
    this.destroy();
  }

  // ---- requests -------------------------------------------------------------------------------

  /** Round trip (GetInputFocus): resolves when the server has processed every earlier request. */
  sync(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    const b = Buffer.alloc(4);
    b[0] = 43;
    b.writeUInt16LE(1, 2);
    return this.request(b, () => undefined, timeoutMs);
  }

  queryExtension(name: string): Promise<{ present: boolean; majorOpcode: number; firstEvent: number; firstError: number }> {
    const nameBytes = Buffer.from(name, 'latin1');
    const padded = (nameBytes.length + 3) & ~3;
    const b = Buffer.alloc(8 + padded);
    b[0] = 98;
    b.writeUInt16LE(2 + padded / 4, 2);
    b.writeUInt16LE(nameBytes.length, 4);
    nameBytes.copy(b, 8);
    return this.request(b, (d) => ({ present: d[0] === 1, majorOpcode: d[1] ?? 0, firstEvent: d[2] ?? 0, firstError: d[3] ?? 0 }));
  }

  getGeometry(drawable: number = this.root): Promise<{ x: number; y: number; width: number; height: number }> {
    const b = Buffer.alloc(8);
    b[0] = 14;
    b.writeUInt16LE(2, 2);
    b.writeUInt32LE(drawable >>> 0, 4);
    return this.request(b, (d) => ({ x: d.readInt16LE(4), y: d.readInt16LE(6), width: d.readUInt16LE(8), height: d.readUInt16LE(10) }));
  }

  queryPointer(window: number = this.root): Promise<{ rootX: number; rootY: number; mask: number; child: number }> {
    const b = Buffer.alloc(8);
    b[0] = 38;
    b.writeUInt16LE(2, 2);
    b.writeUInt32LE(window >>> 0, 4);
    return this.request(b, (d) => ({ child: d.readUInt32LE(4), rootX: d.readInt16LE(8), rootY: d.readInt16LE(10), mask: d.readUInt16LE(16) }));
  }

  /** The 256-bit vector of keys currently down (bit k = keycode k). */
  queryKeymap(): Promise<Uint8Array> {
    const b = Buffer.alloc(4);
    b[0] = 44;
    b.writeUInt16LE(1, 2);
    return this.request(b, (d) => new Uint8Array(d.subarray(0, 32)));
  }

  getKeyboardMapping(): Promise<KeyboardMapping> {
    const first = this.minKeycode;
    const count = this.maxKeycode - this.minKeycode + 1;
    const b = Buffer.alloc(8);
    b[0] = 101;
    b.writeUInt16LE(2, 2);
    b[4] = first;
    b[5] = count;
    return this.request(b, (d, per) => {
      const n = count * per;
      const keysyms = new Uint32Array(n);
      for (let i = 0; i < n && 24 + i * 4 + 4 <= d.length; i++) keysyms[i] = d.readUInt32LE(24 + i * 4);
      return { minKeycode: first, keysymsPerKeycode: per, keysyms };
    });
  }

  /**
   * Binds keysyms to `count = keysyms.length / perKeycode` keycodes from `firstKeycode`
   * (one row of `perKeycode` keysyms each; one row by default).
   */
  changeKeyboardMapping(firstKeycode: number, keysyms: ArrayLike<number>, perKeycode = keysyms.length): void {
    const count = perKeycode > 0 ? keysyms.length / perKeycode : 0;
    if (!Number.isInteger(count) || count < 1 || perKeycode > 255) throw new RangeError('keysyms must be whole rows of 1 to 255');
    if (!Number.isInteger(firstKeycode) || firstKeycode < this.minKeycode || firstKeycode + count - 1 > this.maxKeycode) {
      throw new RangeError(`bad keycode range ${firstKeycode}+${count}`);
    }
    const b = Buffer.alloc(8 + 4 * keysyms.length);
    b[0] = 100;
    b[1] = count;
    b.writeUInt16LE(2 + keysyms.length, 2);
    b[4] = firstKeycode;
    b[5] = perKeycode;
    for (let i = 0; i < keysyms.length; i++) b.writeUInt32LE((keysyms[i] ?? 0) >>> 0, 8 + 4 * i);
    this.send(b);
  }

  /** Server-wide key autorepeat (ChangeKeyboardControl auto-repeat-mode). */
  setAutoRepeat(on: boolean): void {
    const b = Buffer.alloc(12);
    b[0] = 102;
    b.writeUInt16LE(3, 2);
    b.writeUInt32LE(0x80, 4); // KBAutoRepeatMode
    b.writeUInt32LE(on ? 1 : 0, 8);
    this.send(b);
  }

  /** `global_auto_repeat` of GetKeyboardControl. */
  getAutoRepeat(): Promise<boolean> {
    const b = Buffer.alloc(4);
    b[0] = 103;
    b.writeUInt16LE(1, 2);
    return this.request(b, (_d, opt) => opt === 1);
  }

  /** ChangeWindowAttributes event-mask. */
  selectInput(window: number, mask: number): void {
    const b = Buffer.alloc(16);
    b[0] = 2;
    b.writeUInt16LE(4, 2);
    b.writeUInt32LE(window >>> 0, 4);
    b.writeUInt32LE(0x800, 8);
    b.writeUInt32LE(mask >>> 0, 12);
    this.send(b);
  }

  /** ConfigureWindow x, y, width, height. */
  moveResizeWindow(window: number, x: number, y: number, width: number, height: number): void {
    const b = Buffer.alloc(28);
    b[0] = 12;
    b.writeUInt16LE(7, 2);
    b.writeUInt32LE(window >>> 0, 4);
    b.writeUInt16LE(0x1 | 0x2 | 0x4 | 0x8, 8);
    b.writeInt32LE(clampInt(x, -32768, 32767), 12);
    b.writeInt32LE(clampInt(y, -32768, 32767), 16);
    b.writeUInt32LE(clampInt(width, 1, 32767), 20);
    b.writeUInt32LE(clampInt(height, 1, 32767), 24);
    this.send(b);
  }

  /** Creates and maps an input-output window (for observers in tests and tools). */
  createWindow(x: number, y: number, width: number, height: number, eventMask: number): number {
    const id = this.allocId();
    const b = Buffer.alloc(40);
    b[0] = 1;
    b[1] = 0; // depth: CopyFromParent
    b.writeUInt16LE(10, 2);
    b.writeUInt32LE(id, 4);
    b.writeUInt32LE(this.root >>> 0, 8);
    b.writeInt16LE(clampInt(x, -32768, 32767), 12);
    b.writeInt16LE(clampInt(y, -32768, 32767), 14);
    b.writeUInt16LE(clampInt(width, 1, 32767), 16);
    b.writeUInt16LE(clampInt(height, 1, 32767), 18);
    b.writeUInt16LE(0, 20); // border
    b.writeUInt16LE(1, 22); // InputOutput
    b.writeUInt32LE(0, 24); // visual: CopyFromParent
    b.writeUInt32LE(0x2 | 0x800, 28); // background-pixel, event-mask
    b.writeUInt32LE(0xffffff, 32);
    b.writeUInt32LE(eventMask >>> 0, 36);
    this.send(b);
    const m = Buffer.alloc(8);
    m[0] = 8; // MapWindow
    m.writeUInt16LE(2, 2);
    m.writeUInt32LE(id, 4);
    this.send(m);
    return id;
  }

  setInputFocus(window: number): void {
    const b = Buffer.alloc(12);
    b[0] = 42;
    b[1] = 1; // revert to PointerRoot
    b.writeUInt16LE(3, 2);
    b.writeUInt32LE(window >>> 0, 4);
    this.send(b);
  }

  private allocId(): number {
    const d = this.client.display as unknown as { rsrc_id: number; rsrc_shift: number; resource_base: number };
    d.rsrc_id++;
    return ((d.rsrc_id << d.rsrc_shift) + d.resource_base) >>> 0;
  }

  /**
   * XTEST FakeInput. Arguments are clamped to their wire ranges here, before the request is counted,
   * so nothing can throw half-way. `x`,`y` only matter for motion (absolute, root coordinates).
   */
  fakeInput(type: number, detail: number, x = 0, y = 0): void {
    if (this.closedFlag) return;
    const b = Buffer.allocUnsafe(36).fill(0);
    b[0] = this.xtestOpcode;
    b[1] = 2; // X_XTestFakeInput
    b[2] = 9; // length in 4-byte units (little-endian 16 bit)
    b[4] = type;
    b[5] = detail & 0xff;
    b.writeUInt32LE(type === FakeEvent.Motion ? this.root >>> 0 : 0, 12);
    b.writeInt16LE(clampInt(x, -32768, 32767), 24);
    b.writeInt16LE(clampInt(y, -32768, 32767), 26);
    this.send(b);
  }
}

export function clampInt(v: number, lo: number, hi: number): number {
  if (!Number.isFinite(v)) return lo;
  const r = Math.round(v);
  return r < lo ? lo : r > hi ? hi : r;
}
