/**
 * A tiny X client for the latency benchmarks, run as the virtual desktop's app
 * (`--app 'node dist/bench/painter.js --rate 240 --log FILE'`):
 * - paints the low 32 bits of Date.now() as a block pattern (lib/pattern.ts) `--rate` times a second;
 * - toggles a target rectangle red ↔ blue on every button press it receives, repainting at once.
 * - with `--noise HZ`, repaints NOISE (below and beside the clock and target) with random blocks HZ
 *   times a second: content that changes across ~60 % of the picture on every frame, so the encoder
 *   spends whatever bitrate it is given (the networks bench needs a loaded encoder, not a still clock).
 * It logs JSON lines to `--log`: its paint rate, how long the X server took to process a paint
 * (a round trip right after it: the painter's own lag), and the wall time of every press it saw.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { EventMask, XConnection, XEvent } from '../src/x11/index.js';
import { CLOCK, NOISE, NOISE_COLOURS, TARGET, TARGET_COLOURS, clockCells } from './lib/pattern.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const rate = Number(arg('rate', '240'));
const logFile = arg('log', '');
const noiseHz = Number(arg('noise', '0'));
const display = process.env.DISPLAY ?? ':0';

function log(entry: Record<string, unknown>): void {
  if (logFile) appendFileSync(logFile, `${JSON.stringify(entry)}\n`);
}

/** ids are allocated by XConnection; a GC needs one too (the bench reaches for the private helper). */
function allocId(conn: XConnection): number {
  return (conn as unknown as { allocId(): number }).allocId();
}

function createGc(conn: XConnection, drawable: number, colour: number): number {
  const id = allocId(conn);
  const b = Buffer.alloc(24);
  b[0] = 55; // CreateGC
  b.writeUInt16LE(6, 2);
  b.writeUInt32LE(id, 4);
  b.writeUInt32LE(drawable >>> 0, 8);
  b.writeUInt32LE(0x4 | 0x10000, 12); // foreground, graphics-exposures
  b.writeUInt32LE(colour >>> 0, 16);
  b.writeUInt32LE(0, 20);
  conn.send(b);
  return id;
}

function fillRects(conn: XConnection, drawable: number, gc: number, rects: [number, number, number, number][]): void {
  if (rects.length === 0) return;
  const b = Buffer.alloc(12 + rects.length * 8);
  b[0] = 70; // PolyFillRectangle
  b.writeUInt16LE(3 + rects.length * 2, 2);
  b.writeUInt32LE(drawable >>> 0, 4);
  b.writeUInt32LE(gc >>> 0, 8);
  rects.forEach(([x, y, w, h], i) => {
    b.writeInt16LE(x, 12 + i * 8);
    b.writeInt16LE(y, 14 + i * 8);
    b.writeUInt16LE(w, 16 + i * 8);
    b.writeUInt16LE(h, 18 + i * 8);
  });
  conn.send(b);
}

function createPixmap(conn: XConnection, drawable: number, width: number, height: number): number {
  const id = allocId(conn);
  const b = Buffer.alloc(16);
  b[0] = 53; // CreatePixmap
  b[1] = 24; // depth: the virtual desktop's (Xvfb -screen …x24)
  b.writeUInt16LE(4, 2);
  b.writeUInt32LE(id, 4);
  b.writeUInt32LE(drawable >>> 0, 8);
  b.writeUInt16LE(width, 12);
  b.writeUInt16LE(height, 14);
  conn.send(b);
  return id;
}

/** One CopyArea request per send: XConnection counts one sequence number per send(), as X counts requests. */
function copyArea(conn: XConnection, src: number, dst: number, gc: number, c: { sx: number; sy: number; dx: number; dy: number; w: number; h: number }): void {
  const b = Buffer.alloc(28);
  b[0] = 62; // CopyArea
  b.writeUInt16LE(7, 2);
  b.writeUInt32LE(src >>> 0, 4);
  b.writeUInt32LE(dst >>> 0, 8);
  b.writeUInt32LE(gc >>> 0, 12);
  b.writeInt16LE(c.sx, 16);
  b.writeInt16LE(c.sy, 18);
  b.writeInt16LE(c.dx, 20);
  b.writeInt16LE(c.dy, 22);
  b.writeUInt16LE(c.w, 24);
  b.writeUInt16LE(c.h, 26);
  conn.send(b);
}

/**
 * `--noise`: random blocks painted once into a pixmap (NOISE.source), then every repaint copies each
 * NOISE.tile of the noise regions from its own random place in it. Fresh content in every tile each
 * frame that no motion search finds (each tile jumps on its own), for the cost of a few hundred small
 * CopyArea requests: painting the blocks themselves every frame held the painter to ~35 Hz and backed
 * up the X server by ~100 ms, which would have been measured as latency.
 */
function noisePainter(conn: XConnection, win: number): () => void {
  const { width, height } = NOISE.source;
  const pixmap = createPixmap(conn, win, width, height);
  const gcs = NOISE_COLOURS.map((c) => createGc(conn, pixmap, c));
  const byColour = gcs.map((): [number, number, number, number][] => []);
  for (let y = 0; y < height; y += NOISE.block) {
    for (let x = 0; x < width; x += NOISE.block) byColour[Math.floor(Math.random() * gcs.length)]!.push([x, y, NOISE.block, NOISE.block]);
  }
  // At most ~2000 rectangles a request: far below X's request limit without BIG-REQUESTS.
  byColour.forEach((rects, i) => {
    for (let k = 0; k < rects.length; k += 2000) fillRects(conn, pixmap, gcs[i]!, rects.slice(k, k + 2000));
  });
  const copyGc = gcs[0]!;
  const t = NOISE.tile;
  const tiles: { dx: number; dy: number; w: number; h: number }[] = [];
  for (const r of NOISE.regions) {
    for (let dy = r.y; dy < r.y + r.height; dy += t) {
      for (let dx = r.x; dx < r.x + r.width; dx += t) tiles.push({ dx, dy, w: Math.min(t, r.x + r.width - dx), h: Math.min(t, r.y + r.height - dy) });
    }
  }
  return () => {
    for (const tile of tiles) copyArea(conn, pixmap, win, copyGc, { ...tile, sx: Math.floor(Math.random() * (width - tile.w)), sy: Math.floor(Math.random() * (height - tile.h)) });
  };
}

async function main(): Promise<void> {
  if (logFile) writeFileSync(logFile, '');
  const conn = await XConnection.connect(display);
  const geo = await conn.getGeometry();
  const win = conn.createWindow(0, 0, geo.width, geo.height, EventMask.ButtonPress | 0x8000 /* Exposure */ | EventMask.StructureNotify);
  const black = createGc(conn, win, 0x000000);
  const white = createGc(conn, win, 0xffffff);
  const targetGcs = TARGET_COLOURS.map((c) => createGc(conn, win, c));
  const paintNoise = noiseHz > 0 ? noisePainter(conn, win) : null;
  let lastNoise = 0;
  let colour = 0;
  const paintTarget = (): void => fillRects(conn, win, targetGcs[colour]!, [[TARGET.x, TARGET.y, TARGET.width, TARGET.height]]);

  conn.on('event', (ev) => {
    if (ev.type !== XEvent.ButtonPress) return;
    const at = Date.now();
    const x = ev.x ?? -1;
    const y = ev.y ?? -1;
    const inside = x >= TARGET.x && x < TARGET.x + TARGET.width && y >= TARGET.y && y < TARGET.y + TARGET.height;
    if (inside) {
      colour = 1 - colour;
      paintTarget();
    }
    log({ t: 'press', at, x, y, inside, colour });
  });
  conn.on('close', () => process.exit(0));

  let paints = 0;
  let windowStart = performance.now();
  let syncBusy = false;
  const tick = (): void => {
    const painted = Date.now();
    const cells = clockCells(painted);
    // Black first, then white: a capture between the two is torn, and the complement row says so.
    fillRects(conn, win, black, cells.filter((c) => !c.white).map((c) => [c.x, c.y, c.size, c.size]));
    fillRects(conn, win, white, cells.filter((c) => c.white).map((c) => [c.x, c.y, c.size, c.size]));
    paintTarget();
    if (paintNoise && performance.now() - lastNoise >= 1000 / noiseHz) {
      lastNoise = performance.now();
      paintNoise();
    }
    paints++;
    if (!syncBusy && paints % 16 === 0) {
      // The painter's own lag: from the value painted to the X server having processed the paint.
      syncBusy = true;
      const sent = performance.now();
      conn
        .sync()
        .then(() => log({ t: 'sync', painted, ms: performance.now() - sent, late: Date.now() - painted }))
        .catch(() => undefined)
        .finally(() => (syncBusy = false));
    }
    const now = performance.now();
    if (now - windowStart >= 1000) {
      log({ t: 'rate', hz: (paints / (now - windowStart)) * 1000, clockWidth: CLOCK.bits * CLOCK.cell });
      paints = 0;
      windowStart = now;
    }
  };
  setInterval(tick, 1000 / rate);
  process.on('SIGTERM', () => {
    conn.destroy();
    process.exit(0);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`painter: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
