/**
 * A child process that runs a capture pipeline on a display whose painter shows the clock, pulls the
 * frames from an appsink and reads the clock out of each I420 frame's luma: painted → frame out of the
 * pipeline, for variants of the capture chain. Args: display, width, height, framerate, ms, variant.
 * Variants: 'videorate' (as src/media/pipeline-description.ts builds it), 'drop-only' (videorate
 * drop-only=true), 'direct' (no videorate; the framerate caps go to ximagesrc itself). Prints one JSON line {samples, frames} on stdout.
 */
import { createRequire } from 'node:module';
import { CLOCK, clockDelta } from './lib/pattern.js';

interface AppSink {
  pull(cb: (buf: Buffer | null, caps?: unknown) => void): void;
}
interface Pipeline {
  play(): void;
  stop(): void;
  findChild(name: string): AppSink;
  'auto-flush-bus': boolean;
}

const [display = ':0', w = '1280', h = '720', fps = '30', ms = '5000', variant = 'videorate'] = process.argv.slice(2);
const width = Number(w);
const height = Number(h);
const source = `ximagesrc display-name=${display} use-damage=false show-pointer=true`;
const rate = `video/x-raw,framerate=${fps}/1`;
const CHAINS: Record<string, string[]> = {
  videorate: [source, 'videorate', rate],
  'drop-only': [source, 'videorate drop-only=true', rate],
  direct: [source, rate],
};
const chain = CHAINS[variant] ?? CHAINS.videorate!;
const launch = [...chain, 'videoconvert', 'video/x-raw,format=I420', 'appsink name=sink sync=false max-buffers=4'].join(' ! ');

const gst = createRequire(import.meta.url)('gstreamer-superficial') as { Pipeline: new (launch: string) => Pipeline };
const pipeline = new gst.Pipeline(launch);
const sink = pipeline.findChild('sink');
const samples: number[] = [];
let frames = 0;

/** The clock from the Y plane (stride = width for these sizes). */
function readY(buf: Buffer): number | null {
  let value = 0;
  for (let i = 0; i < CLOCK.bits; i++) {
    const x = CLOCK.x + i * CLOCK.cell + CLOCK.cell / 2;
    const a = buf[(CLOCK.y + CLOCK.cell / 2) * width + x]!;
    const b = buf[(CLOCK.y + CLOCK.cell + CLOCK.cell / 2) * width + x]!;
    if (a > 128 === b > 128) return null;
    value = ((value << 1) | (a > 128 ? 1 : 0)) >>> 0;
  }
  return value;
}

const onBuffer = (buf: Buffer | null): void => {
  if (buf) {
    const now = Date.now();
    frames++;
    if (buf.length >= (width * height * 3) / 2) {
      const painted = readY(buf);
      if (painted !== null) samples.push(clockDelta(now, painted));
    }
  }
  sink.pull(onBuffer);
};
sink.pull(onBuffer);
pipeline.play();
setTimeout(() => {
  process.stdout.write(`${JSON.stringify({ variant, samples: samples.slice(10), frames })}\n`);
  pipeline['auto-flush-bus'] = false;
  pipeline.stop();
  process.exit(0);
}, Number(ms));
void height;
