/**
 * A child process that owns one GStreamer pipeline (forked by stream-pipeline.ts).
 * GStreamer runs in native threads that a crash or a stuck element takes down with it; in a separate
 * process that can only end this worker, never the server. The pipeline sends RTP to a loopback port the
 * parent listens on; the parent controls the encoder over IPC (keyframe, bitrate, show-pointer, stop).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { logger } from '../log.js';
import { isParentMessage, type WorkerConfig, type WorkerMessage } from './worker-protocol.js';

/** The part of gstreamer-superficial (untyped, CommonJS) this worker uses. */
interface GstBusMessage {
  type: string;
  message?: string;
}
interface GstPipeline {
  /** When true (GStreamer's default), going to NULL flushes the bus and drops the messages it gets. */
  'auto-flush-bus': boolean;
  play(): void;
  stop(): void;
  findChild(name: string): Record<string, unknown> | undefined;
  /** Pushes an upstream force-key-unit event into the sink pad of the named element. */
  forceKeyUnit(elementName: string, count: number): boolean;
  pollBus(callback: (message: GstBusMessage) => void): void;
}
interface GstModule {
  Pipeline: new (launch: string) => GstPipeline;
}

const USAGE_INTERVAL_MS = 2000;
/** How long stopping the pipeline and exiting may take before the watchdog kills the process. */
const EXIT_DEADLINE_MS = 1000;

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const log = logger('media.worker');

function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(message);
}

let pipeline: GstPipeline | undefined;
let exiting = false;

/**
 * Stops the pipeline, then ends the process. pollBus keeps a libuv pool thread blocked in gst_bus_timed_pop,
 * and process.exit() joins the pool's threads: with nothing on the bus to wake that thread, the exit hangs
 * (docs/architecture.md, "GStreamer workers"). Keeping the bus unflushed lets the state changes of stop() reach it and release the thread
 * (measured: ~1 stop in 30 hung until SIGKILL before, 0 in 200 after), so a parent still listening gets a
 * clean exit code. A parent that is gone (it died, even by SIGKILL) reads no exit code and kills nothing:
 * then the worker SIGKILLs itself, which joins no thread. Either way the watchdog bounds stop() and exit().
 */
function exit(code: number): void {
  if (exiting) return;
  exiting = true;
  startWatchdog();
  try {
    if (pipeline) {
      pipeline['auto-flush-bus'] = false;
      pipeline.stop();
    }
  } finally {
    if (process.connected) process.exit(code);
    else process.kill(process.pid, 'SIGKILL');
  }
}

/**
 * A thread of its own that SIGKILLs this process after EXIT_DEADLINE_MS: pipeline.stop() and the exit run
 * on the main thread and can block it in native code, where no timer of the main thread would ever fire.
 */
function startWatchdog(): void {
  new Worker(`setTimeout(() => process.kill(process.pid, 'SIGKILL'), ${EXIT_DEADLINE_MS});`, { eval: true });
}

function fail(message: string): void {
  log.error({ err: message }, 'pipeline failed');
  send({ type: 'error', message });
  exit(1);
}

process.on('uncaughtException', (err) => fail(err.message));
// The parent died or let go of us: nobody would read our RTP any more.
process.on('disconnect', () => exit(0));
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => exit(0));

process.on('message', (message: unknown) => {
  if (!isParentMessage(message)) {
    log.warn({ message }, 'unknown IPC message ignored');
    return;
  }
  const control = config.control;
  switch (message.type) {
    case 'stop':
      exit(0);
      break;
    case 'keyframe':
      if (control) pipeline?.forceKeyUnit(control.keyUnitElement, 1);
      break;
    case 'bitrate': {
      const encoder = control && pipeline?.findChild(control.encoder);
      if (encoder && control) encoder[control.bitrateProperty] = Math.round(message.kbps * control.unitsPerKbit);
      break;
    }
    case 'show-pointer': {
      // Measured with gst-inspect and a capture: ximagesrc takes show-pointer while PLAYING, from its next frame.
      const capture = control?.pointerElement && pipeline?.findChild(control.pointerElement);
      if (capture) capture['show-pointer'] = message.show;
      break;
    }
  }
});

const gst = createRequire(import.meta.url)('gstreamer-superficial') as GstModule;
try {
  pipeline = new gst.Pipeline(config.launch);
} catch (err) {
  fail(`cannot build pipeline: ${(err as Error).message}`);
}
if (pipeline) {
  if (config.control && !pipeline.findChild(config.control.keyUnitElement)) {
    // forceKeyUnit on a missing element dereferences NULL in the native binding.
    fail(`pipeline has no element named ${config.control.keyUnitElement}`);
  }
  pipeline.pollBus((message) => {
    if (message.type === 'error') fail(message.message ?? 'unknown GStreamer error');
    else if (message.type === 'eos') fail('the source ended');
  });
  pipeline.play();
  setInterval(() => {
    const usage = process.cpuUsage();
    send({ type: 'usage', cpuMicros: usage.user + usage.system });
  }, USAGE_INTERVAL_MS).unref();
}
