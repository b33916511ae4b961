/**
 * A minimal PNG encoder (8-bit RGBA, no interlace, filter 0) on node:zlib: cursor images are a few
 * KB, so no filtering heuristics are worth a dependency (none that encodes PNG is in node_modules).
 */
import { crc32, deflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)) >>> 0, 8 + data.length);
  return out;
}

/** Encodes `rgba` (width*height*4 bytes, row-major, straight alpha) as a PNG file. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new RangeError(`bad PNG size ${width}x${height}`);
  if (rgba.length !== width * height * 4) throw new RangeError(`PNG ${width}x${height} needs ${width * height * 4} RGBA bytes, got ${rgba.length}`);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // colour type: RGBA
  const stride = width * 4;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter: none
    raw.set(rgba.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** X cursor pixels (0xAARRGGBB, premultiplied alpha) to straight-alpha RGBA bytes. */
export function argbToRgba(argb: Uint32Array): Uint8Array {
  const out = new Uint8Array(argb.length * 4);
  for (let i = 0; i < argb.length; i++) {
    const p = argb[i] ?? 0;
    const a = p >>> 24;
    const un = (c: number): number => (a === 0 ? 0 : Math.min(255, Math.round((c * 255) / a)));
    out[i * 4] = un((p >>> 16) & 0xff);
    out[i * 4 + 1] = un((p >>> 8) & 0xff);
    out[i * 4 + 2] = un(p & 0xff);
    out[i * 4 + 3] = a;
  }
  return out;
}
