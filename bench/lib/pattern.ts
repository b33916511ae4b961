/**
 * The picture the painter draws and the page reads back, shared by both sides (the page gets it
 * through the esbuild bundle). Screen pixels; the stream is decoded at the source's own size.
 *
 * Clock: two rows of 32 square cells at the top left. Row A is the low 32 bits of Date.now() (most
 * significant bit first, white = 1), row B is its complement: a frame captured between the painter's
 * two fill requests (a torn one) breaks the complement and is rejected instead of misread.
 * Click target: a rectangle that toggles between red and blue on every button press it receives.
 */
export const CLOCK = { x: 16, y: 16, cell: 32, bits: 32 } as const;
export const TARGET = { x: 16, y: 120, width: 320, height: 240 } as const;
export const TARGET_COLOURS = [0xff0000, 0x0000ff] as const;
/**
 * The painter's `--noise`: the picture below the target and right of it, clear of the clock and the
 * target, repainted tile by tile from random places of a source of random 8×8 blocks (a quarter of a
 * macroblock: every macroblock holds several shades).
 */
export const NOISE = {
  block: 8,
  tile: 64,
  source: { width: 1024, height: 1024 },
  regions: [
    { x: 0, y: 400, width: 1280, height: 320 },
    { x: 360, y: 104, width: 920, height: 296 },
  ],
} as const;
/**
 * Sixteen greys of medium contrast (72 … 192): at the bitrates of a fast link the encoder spends all it
 * has on them, on a slow one its quantizer smooths them away first, and the black-and-white clock stays
 * readable (with full-contrast noise every bitrate below ~2 Mbit/s blurred the clock beyond reading).
 */
export const NOISE_COLOURS = Array.from({ length: 16 }, (_, i) => (72 + i * 8) * 0x010101);

/** The cells of row A (`row` 0) and row B (1) as [x, y, w, h] with the bit each one shows. */
export function clockCells(value: number): { x: number; y: number; size: number; white: boolean }[] {
  const cells: { x: number; y: number; size: number; white: boolean }[] = [];
  const v = value >>> 0;
  for (let i = 0; i < CLOCK.bits; i++) {
    const bit = ((v >>> (CLOCK.bits - 1 - i)) & 1) === 1;
    cells.push({ x: CLOCK.x + i * CLOCK.cell, y: CLOCK.y, size: CLOCK.cell, white: bit });
    cells.push({ x: CLOCK.x + i * CLOCK.cell, y: CLOCK.y + CLOCK.cell, size: CLOCK.cell, white: !bit });
  }
  return cells;
}

/**
 * Reads the clock from RGBA pixels of the region (CLOCK.x, CLOCK.y, CLOCK.bits × cell, 2 × cell),
 * `stride` pixels wide. Each cell's centre 8×8 is averaged. Null when a cell is unclear or the
 * complement row disagrees.
 */
export function readClock(rgba: Uint8ClampedArray | Uint8Array, stride: number): number | null {
  let value = 0;
  const c = CLOCK.cell;
  const lumaAt = (cx: number, cy: number): number => {
    let sum = 0;
    for (let dy = -4; dy < 4; dy++) {
      for (let dx = -4; dx < 4; dx++) {
        const o = ((cy + dy) * stride + (cx + dx)) * 4;
        sum += (rgba[o]! + rgba[o + 1]! + rgba[o + 2]!) / 3;
      }
    }
    return sum / 64;
  };
  for (let i = 0; i < CLOCK.bits; i++) {
    const cx = i * c + c / 2;
    const a = lumaAt(cx, c / 2);
    const b = lumaAt(cx, c + c / 2);
    // Compression blurs edges, not centres: a clear cell is near black or white.
    if (Math.abs(a - 128) < 40 || Math.abs(b - 128) < 40) return null;
    const bitA = a > 128;
    const bitB = b > 128;
    if (bitA === bitB) return null;
    value = ((value << 1) | (bitA ? 1 : 0)) >>> 0;
  }
  return value;
}

/** `now − painted` in ms from the low 32 bits of both clocks (correct for |difference| < 24 days). */
export function clockDelta(nowMs: number, painted32: number): number {
  return ((((nowMs >>> 0) - painted32) | 0) as number);
}

/** Which target colour an RGB pixel is closest to: 0 (red), 1 (blue), or null when neither. */
export function targetColour(r: number, g: number, b: number): 0 | 1 | null {
  if (r > 150 && b < 100 && g < 100) return 0;
  if (b > 150 && r < 100 && g < 100) return 1;
  return null;
}
