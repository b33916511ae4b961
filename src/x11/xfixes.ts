/**
 * The few XFIXES requests and events the desktop needs (cursor image and selection-owner changes),
 * packed on an XConnection so they share its sequence-number wrap, reply timeouts and close handling.
 * npm `x11` has an XFIXES module, but it advances `seq_num` without wrap-around like its XTEST one
 * (docs/architecture.md, "XTEST and the X server"), and it has no SelectCursorInput nor GetCursorImage.
 */
import type { XConnection, XRawEvent } from './x11-connection.js';

/** XFIXES minor opcodes (xfixesproto). */
const Minor = { QueryVersion: 0, SelectSelectionInput: 2, SelectCursorInput: 3, GetCursorImage: 4 } as const;

/** SelectSelectionInput event-mask bits. */
export const SelectionEventMask = { SetSelectionOwner: 0x1, SelectionWindowDestroy: 0x2, SelectionClientClose: 0x4 } as const;

/** Cursors larger than this are refused before any pixel is copied (a real cursor is at most 256x256). */
const MAX_CURSOR_SIDE = 1024;

export interface CursorImage {
  /** The server's serial of this cursor: the same cursor shown again has the same serial. */
  serial: number;
  width: number;
  height: number;
  xhot: number;
  yhot: number;
  /** Pointer position when the image was taken. */
  x: number;
  y: number;
  /** width*height pixels, row-major, 0xAARRGGBB with premultiplied alpha, as the server sends them. */
  argb: Uint32Array;
}

export type XFixesEvent =
  | { kind: 'cursor'; serial: number; window: number; time: number }
  | { kind: 'selection'; window: number; owner: number; selection: number; time: number };

export class XFixes {
  private constructor(
    private readonly conn: XConnection,
    private readonly majorOpcode: number,
    private readonly firstEvent: number,
    readonly version: { major: number; minor: number },
  ) {}

  /** Queries the extension and announces version 5 (the server refuses every XFIXES request before QueryVersion). */
  static async init(conn: XConnection): Promise<XFixes> {
    const ext = await conn.queryExtension('XFIXES');
    if (!ext.present) throw new Error(`X display ${conn.display} has no XFIXES extension`);
    const b = Buffer.alloc(12);
    b[0] = ext.majorOpcode;
    b[1] = Minor.QueryVersion;
    b.writeUInt16LE(3, 2);
    b.writeUInt32LE(5, 4);
    b.writeUInt32LE(0, 8);
    const version = await conn.request(b, (d) => ({ major: d.readUInt32LE(0), minor: d.readUInt32LE(4) }));
    if (version.major < 2) throw new Error(`X display ${conn.display}: XFIXES ${version.major}.${version.minor} is too old (cursor and selection events need 2)`);
    return new XFixes(conn, ext.majorOpcode, ext.firstEvent, version);
  }

  /** Asks for a cursor event whenever the cursor shown on `window`'s screen changes. */
  selectCursorInput(window: number, on = true): void {
    const b = Buffer.alloc(12);
    b[0] = this.majorOpcode;
    b[1] = Minor.SelectCursorInput;
    b.writeUInt16LE(3, 2);
    b.writeUInt32LE(window >>> 0, 4);
    b.writeUInt32LE(on ? 1 : 0, 8); // DisplayCursorNotifyMask
    this.conn.send(b);
  }

  /** Asks for selection events of `selection` (an atom) on `window`. */
  selectSelectionInput(window: number, selection: number, mask: number): void {
    const b = Buffer.alloc(16);
    b[0] = this.majorOpcode;
    b[1] = Minor.SelectSelectionInput;
    b.writeUInt16LE(4, 2);
    b.writeUInt32LE(window >>> 0, 4);
    b.writeUInt32LE(selection >>> 0, 8);
    b.writeUInt32LE(mask >>> 0, 12);
    this.conn.send(b);
  }

  /**
   * The cursor shown now, with its pixels. The reply parser never throws (a throw inside npm `x11`'s
   * reply dispatch would stop it reading the socket): a bad reply comes back as an Error, rejected here.
   */
  async getCursorImage(): Promise<CursorImage> {
    const b = Buffer.alloc(4);
    b[0] = this.majorOpcode;
    b[1] = Minor.GetCursorImage;
    b.writeUInt16LE(1, 2);
    const result = await this.conn.request(b, parseCursorImage);
    if (result instanceof Error) throw result;
    return result;
  }

  /** Decodes an XFIXES event; null for any other event. */
  decode(ev: XRawEvent): XFixesEvent | null {
    const raw = ev.rawData;
    if (!raw || raw.length < 32) return null;
    const type = ev.type & 0x7f;
    if (type === this.firstEvent + 1) return { kind: 'cursor', window: raw.readUInt32LE(4), serial: raw.readUInt32LE(8), time: raw.readUInt32LE(12) };
    if (type === this.firstEvent) {
      return { kind: 'selection', window: raw.readUInt32LE(4), owner: raw.readUInt32LE(8), selection: raw.readUInt32LE(12), time: raw.readUInt32LE(16) };
    }
    return null;
  }
}

/** `d` starts after the 8-byte reply header: the fixed part is 24 more bytes, then the pixels. */
function parseCursorImage(d: Buffer): CursorImage | Error {
  if (d.length < 24) return new Error(`cursor image reply of ${d.length} bytes is too short`);
  const width = d.readUInt16LE(4);
  const height = d.readUInt16LE(6);
  if (width > MAX_CURSOR_SIDE || height > MAX_CURSOR_SIDE) return new Error(`cursor image ${width}x${height} is larger than ${MAX_CURSOR_SIDE}x${MAX_CURSOR_SIDE}`);
  const count = width * height;
  if (d.length < 24 + count * 4) return new Error(`cursor image reply is ${d.length} bytes, ${width}x${height} needs ${24 + count * 4}`);
  const argb = new Uint32Array(count);
  for (let i = 0; i < count; i++) argb[i] = d.readUInt32LE(24 + i * 4);
  return { x: d.readInt16LE(0), y: d.readInt16LE(2), width, height, xhot: d.readUInt16LE(8), yhot: d.readUInt16LE(10), serial: d.readUInt32LE(12), argb };
}

/** InternAtom: the atom of `name`, created if it does not exist. */
export function internAtom(conn: XConnection, name: string): Promise<number> {
  const bytes = Buffer.from(name, 'latin1');
  if (bytes.length === 0 || bytes.length > 0xffff) throw new RangeError(`bad atom name length ${bytes.length}`);
  const padded = (bytes.length + 3) & ~3;
  const b = Buffer.alloc(8 + padded);
  b[0] = 16;
  b[1] = 0; // only-if-exists: false
  b.writeUInt16LE(2 + padded / 4, 2);
  b.writeUInt16LE(bytes.length, 4);
  bytes.copy(b, 8);
  return conn.request(b, (d) => d.readUInt32LE(0));
}
