/**
 * A child process that runs a capture chain on a display whose painter shows the clock, pulls the frames
 * from an appsink and reads the clock out of each I420 frame's luma: painted → frame out of the chain.
 * Args: display, width, height, ms, chain (JSON array of gst-launch elements up to, not including,
 * videoconvert). Prints one JSON line {samples, frames} on stdout.
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

const [display = ':0', w = '1280', h = '720', ms = '5000', chainJson = '[]'] = process.argv.slice(2);
const width = Number(w);
const height = Number(h);
const chain = JSON.parse(chainJson) as string[];
if (!chain.length) throw new Error(`no capture chain for ${display}`);
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
  process.stdout.write(`${JSON.stringify({ samples: samples.slice(10), frames })}\n`);
  pipeline['auto-flush-bus'] = false;
  pipeline.stop();
  process.exit(0);
}, Number(ms));
void height;
