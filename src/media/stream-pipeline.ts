import { fork, type ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { logger, type Logger } from '../log.js';
import { RestartBackoff } from '../process/restart-backoff.js';
import { KeyframeThrottle } from './keyframe-throttle.js';
import { PointerPolicy, type PointerViewer } from './pointer-policy.js';
import { describePipeline, streamKey, type StreamSpec } from './pipeline-description.js';
import { RtpFanout, type RtpListener } from './rtp-fanout.js';
import { inspectVideoPayload, startsPicture, type RtpHeaderInfo } from './rtp-inspect.js';
import { MediaError, type SourceSpec } from './types.js';
import { isWorkerMessage, type ParentMessage } from './worker-protocol.js';

/** Same extension as this module: .js when compiled, .ts under tsx (fork inherits tsx's loader). */
const WORKER_PATH = fileURLToPath(
  new URL(`./pipeline-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);
/**
 * The worker inherits our Node flags (a loader such as tsx's included) but not those that would give it
 * a second inspector on our port, make it a test run, or watch files.
 */
const WORKER_EXEC_ARGV = process.execArgv.filter((flag) => !/^--(inspect|debug|test|watch)/.test(flag));

export type PipelineState = 'idle' | 'starting' | 'running' | 'restarting' | 'stopping';

/** A viewer's side of a stream: its RTP, and news of the encoder going away and coming back. */
export interface StreamSubscriber {
  rtp: RtpListener;
  down(reason: string): void;
  up(): void;
  /** Keeps the encoder running with nobody watching (--keep-warm): not counted as a viewer. */
  keepsWarm?: true;
  /** The viewer's say on the pointer in the picture; without one, it needs the pointer drawn in (pointer-policy.ts). */
  pointer?: PointerViewer;
}

export interface PipelineOptions {
  /** How long the encoder keeps running after its last viewer left (a reload comes straight back). */
  lingerMs: number;
  /** How long a viewer waits for a (re)starting encoder before MEDIA_UNAVAILABLE. */
  startTimeoutMs: number;
  /** Minimum spacing of keyframes forced on request. */
  keyframeIntervalMs: number;
}

export interface PipelineStats {
  stream: string;
  kind: 'video' | 'audio';
  codec: string;
  state: PipelineState;
  pid: number | null;
  restarts: number;
  viewers: number;
  /** Encoder setting (video). */
  bitrateKbps: number | null;
  /** Measured over the last second, from the RTP the encoder sent. */
  sentKbps: number;
  fps: number;
  width: number | null;
  height: number | null;
  framesSent: number;
  keyframesSent: number;
  keyframesRequested: number;
  keyframesForced: number;
  /** Share of one core used by the worker process (GStreamer included). */
  cpuPercent: number | null;
  /** The picture shows the desktop's pointer (video); null for audio. */
  pointerShown: boolean | null;
}

/**
 * The SSRC the next worker sends with: unique among this process's workers, so that a pipeline tells its
 * current worker's RTP from a predecessor's, and a viewer switched to another encoder sees the switch.
 */
let nextSsrc = 1;

const STOP_GRACE_MS = 2000;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 10_000;
/** A worker that was running (sending RTP) this long before dying had a fresh failure, not a crash loop. */
const STABLE_RUN_MS = 10_000;

interface Waiter {
  resolve(): void;
  reject(err: MediaError): void;
  timer: NodeJS.Timeout;
}

/**
 * One encoder shared by every viewer of a (source, codec) — or of a source's audio — run in a worker
 * process started on the first viewer, restarted with backoff when it dies, stopped after the last leaves.
 */
export class StreamPipeline {
  private state: PipelineState = 'idle';
  private worker: ChildProcess | undefined;
  /** A worker started by handOver(), sending alongside `worker` until its first keyframe. */
  private successor: ChildProcess | undefined;
  private readonly subscribers = new Set<StreamSubscriber>();
  private readonly listenerRemovals = new Map<StreamSubscriber, () => void>();
  private waiters: Waiter[] = [];
  private lingerTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private meterTimer: NodeJS.Timeout | undefined;
  private stopped: Promise<void> | undefined;
  private readonly keyframes: KeyframeThrottle;
  /** Kept across restarts: a restarted encoder starts with the pointer as its viewers need it. */
  private readonly pointer = new PointerPolicy((show) => this.send({ type: 'show-pointer', show }));
  private log: Logger;
  private bitrateKbps: number | null;
  /** A run counts from the first RTP: a worker that dies before sending any never ran. */
  private readonly backoff = new RestartBackoff(BACKOFF_FIRST_MS, BACKOFF_MAX_MS, STABLE_RUN_MS);
  private restarts = 0;
  private counts = { frames: 0, keyframes: 0, lastKeyTimestamp: -1, width: null as number | null, height: null as number | null };
  private meter = { frames: 0, bytes: 0, fps: 0, kbps: 0 };
  private cpu = { micros: 0, at: 0, percent: null as number | null };

  private constructor(
    private spec: StreamSpec,
    private readonly options: PipelineOptions,
    private readonly fanout: RtpFanout,
  ) {
    this.log = logger('media.pipeline', { stream: this.key });
    this.bitrateKbps = spec.kind === 'video' ? spec.bitrateKbps : null;
    this.keyframes = new KeyframeThrottle(options.keyframeIntervalMs, () => this.send({ type: 'keyframe' }));
    fanout.add((_packet, header) => this.inspect(header));
  }

  /** The stream's name: its source and codec (it follows a retarget). */
  get key(): string {
    return streamKey(this.spec);
  }

  static async open(spec: StreamSpec, options: PipelineOptions): Promise<StreamPipeline> {
    return new StreamPipeline(spec, options, await RtpFanout.open());
  }

  /**
   * Adds a viewer; resolves once RTP flows (starting the encoder if needed) with the function that removes
   * it. Rejects with MediaError MEDIA_UNAVAILABLE when the encoder cannot start.
   */
  async attach(subscriber: StreamSubscriber): Promise<() => void> {
    if (this.stopped) throw new MediaError('MEDIA_UNAVAILABLE', 'the media service is shutting down');
    clearTimeout(this.lingerTimer);
    this.subscribers.add(subscriber);
    this.listenerRemovals.set(subscriber, this.fanout.add(subscriber.rtp));
    if (this.spec.kind === 'video' && !subscriber.keepsWarm) this.pointer.add(subscriber, subscriber.pointer);
    const detach = (): void => this.detach(subscriber);
    try {
      await this.whenRunning();
    } catch (err) {
      detach();
      throw err;
    }
    return detach;
  }

  /** Asks the encoder for a keyframe (throttled); a no-op for audio. */
  requestKeyframe(): void {
    if (this.spec.kind === 'video') this.keyframes.request();
  }

  /**
   * Captures `source` from now on: the virtual desktop's X server came back under another display number.
   * A running worker is killed — it would go on capturing whatever now owns the old number — and the restart
   * that follows (viewers see down, then up, as after a crash) uses the new source. Viewers stay attached.
   */
  retarget(source: SourceSpec): void {
    if (JSON.stringify(source) === JSON.stringify(this.spec.source)) return;
    const from = this.key;
    this.spec = { ...this.spec, source };
    this.log = logger('media.pipeline', { stream: this.key });
    this.log.info({ from }, 'source moved; restarting the encoder on it');
    this.restart();
  }

  /** Kills the worker (and any successor) for a restart: viewers see down, then up, as after a crash, and stay attached. */
  restart(): void {
    // Not the encoder's fault: the restart comes without a longer backoff.
    this.backoff.reset();
    this.dropSuccessor();
    this.worker?.kill('SIGKILL');
  }

  /**
   * Replaces the running worker without a gap (make-before-break): the X screen is now `size`, and ximagesrc
   * goes on grabbing the area it started with (neither failing nor following). A new worker starts alongside;
   * viewers get the old one's RTP until the new one's first keyframe, then the new SSRC (followed as after a
   * rung switch), and the old worker stops: no down, no up. One not running yet restarts instead.
   */
  handOver(size: { width: number; height: number }): void {
    if (this.spec.kind !== 'video') return;
    // The rungs scale the capture to a share of this size (see scaled() in pipeline-description.ts).
    this.spec = { ...this.spec, ...size };
    const codec = this.spec.codec;
    if (this.state === 'starting' || this.state === 'restarting') this.restart();
    if (this.state !== 'running') return;
    // A second resize during a handover: only the newest size counts.
    this.dropSuccessor();
    const ssrc = nextSsrc++;
    let worker: ChildProcess;
    try {
      worker = this.spawn(ssrc);
    } catch (err) {
      this.log.error({ err }, 'the encoder to hand over to could not start; restarting instead');
      this.restart();
      return;
    }
    this.successor = worker;
    this.fanout.successor = {
      ssrc,
      startsAt: (header) => {
        if (!startsPicture(codec, header.payload)) return false;
        this.promote(worker);
        return true;
      },
    };
    // One that never sends would leave viewers on the old size for good: break instead.
    setTimeout(() => {
      if (this.successor !== worker) return;
      this.log.warn('the encoder to hand over to sent nothing in time; restarting instead');
      this.restart();
    }, this.options.startTimeoutMs).unref();
  }

  /** Changes the video encoder's bitrate at runtime; kept across restarts. */
  setBitrate(kbps: number): void {
    if (this.spec.kind !== 'video') return;
    this.bitrateKbps = kbps;
    this.send({ type: 'bitrate', kbps });
    if (this.successor?.connected) this.successor.send({ type: 'bitrate', kbps });
  }

  stats(): PipelineStats {
    return {
      stream: this.key,
      kind: this.spec.kind,
      codec: this.spec.kind === 'video' ? this.spec.codec : 'OPUS',
      state: this.state,
      pid: this.worker?.pid ?? null,
      restarts: this.restarts,
      viewers: [...this.subscribers].filter((subscriber) => !subscriber.keepsWarm).length,
      bitrateKbps: this.bitrateKbps,
      sentKbps: this.meter.kbps,
      fps: this.meter.fps,
      width: this.counts.width,
      height: this.counts.height,
      framesSent: this.counts.frames,
      keyframesSent: this.counts.keyframes,
      keyframesRequested: this.keyframes.requested,
      keyframesForced: this.keyframes.sent,
      cpuPercent: this.cpu.percent,
      pointerShown: this.spec.kind === 'video' ? this.pointer.shown : null,
    };
  }

  /** Stops the encoder for good and frees the port; resolves when the worker has exited. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      for (const subscriber of [...this.subscribers]) this.detach(subscriber);
      clearTimeout(this.lingerTimer);
      this.rejectWaiters('the media service is shutting down');
      await this.stopWorker();
      this.fanout.close();
    })();
    return this.stopped;
  }

  private detach(subscriber: StreamSubscriber): void {
    if (!this.subscribers.delete(subscriber)) return;
    this.listenerRemovals.get(subscriber)?.();
    this.listenerRemovals.delete(subscriber);
    this.pointer.remove(subscriber);
    if (this.subscribers.size > 0 || this.stopped) return;
    if (!this.worker) {
      // Between restarts there is no process to keep warm.
      this.toIdle();
      return;
    }
    clearTimeout(this.lingerTimer);
    this.lingerTimer = setTimeout(() => {
      if (this.subscribers.size === 0) void this.stopWorker();
    }, this.options.lingerMs);
  }

  private whenRunning(): Promise<void> {
    if (this.state === 'running') return Promise.resolve();
    if (this.state === 'idle' || this.state === 'stopping') this.startWorker();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new MediaError('MEDIA_UNAVAILABLE', 'the media pipeline did not start in time', this.key));
        }, this.options.startTimeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  private startWorker(): void {
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const restarting = this.state === 'restarting';
    this.state = restarting ? 'restarting' : 'starting';
    const ssrc = nextSsrc++;
    let worker: ChildProcess;
    try {
      worker = this.spawn(ssrc);
    } catch (err) {
      this.onWorkerGone(undefined, (err as Error).message);
      return;
    }
    // A viewer arriving while the previous worker stops starts this one at once: until it sends, the old
    // one's RTP must not count as this one running.
    this.fanout.ssrc = ssrc;
    this.worker = worker;
    this.cpu = { micros: 0, at: performance.now(), percent: null };
    this.meterTimer ??= setInterval(() => this.sampleMeter(), 1000);
    this.meterTimer.unref();
    this.log.info({ workerPid: worker.pid, restart: restarting }, 'pipeline worker started');
  }

  /** Forks a worker sending this stream's RTP with `ssrc`; throws when the spec makes no pipeline. */
  private spawn(ssrc: number): ChildProcess {
    const config = describePipeline(
      this.spec.kind === 'video' ? { ...this.spec, bitrateKbps: this.bitrateKbps ?? this.spec.bitrateKbps, showPointer: this.pointer.shown } : this.spec,
      { port: this.fanout.port, ssrc },
    );
    const worker = fork(WORKER_PATH, [JSON.stringify(config)], {
      execArgv: WORKER_EXEC_ARGV,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let lastError = 'the media pipeline exited';
    worker.on('message', (message: unknown) => {
      if (!isWorkerMessage(message)) return;
      if (message.type === 'error') lastError = message.message;
      else if (message.type === 'usage' && worker === this.worker) this.onUsage(message.cpuMicros);
    });
    worker.on('error', (err) => {
      lastError = err.message;
      this.log.error({ err }, 'worker process error');
      // A fork that failed (EAGAIN, ENOMEM …) has no pid and never emits 'exit'.
      if (worker.pid === undefined) this.onWorkerGone(worker, `the media pipeline could not be started: ${err.message}`);
    });
    worker.on('exit', (code, signal) => {
      if (code !== 0 || signal) this.log.warn({ code, signal, reason: lastError }, 'pipeline worker exited');
      this.onWorkerGone(worker, signal ? `the media pipeline was killed (${signal})` : lastError);
    });
    return worker;
  }

  /** The successor sent its first keyframe, which the fan-out now passes on: the worker it replaces stops. */
  private promote(worker: ChildProcess): void {
    const old = this.worker;
    this.worker = worker;
    this.successor = undefined;
    this.cpu = { micros: 0, at: performance.now(), percent: null };
    this.keyframes.cancel();
    if (old && old !== worker) this.retire(old);
    this.log.info({ workerPid: worker.pid }, 'encoder handed over to a new worker');
  }

  /** Asks a worker that no longer sends to viewers to stop, and kills it if it does not in time. */
  private retire(worker: ChildProcess): void {
    const kill = setTimeout(() => worker.kill('SIGKILL'), STOP_GRACE_MS);
    worker.once('exit', () => clearTimeout(kill));
    if (worker.connected) worker.send({ type: 'stop' } satisfies ParentMessage);
    else worker.kill('SIGKILL');
  }

  private dropSuccessor(): void {
    const worker = this.successor;
    if (!worker) return;
    this.successor = undefined;
    this.fanout.successor = undefined;
    this.retire(worker);
  }

  private onWorkerGone(worker: ChildProcess | undefined, reason: string): void {
    if (worker && worker === this.successor) {
      this.log.warn({ reason }, 'the encoder to hand over to failed; restarting instead');
      this.restart();
      return;
    }
    if (worker && worker !== this.worker) return;
    if (this.successor && this.state === 'running') {
      // The old worker died during a handover: its successor is the worker now, passed on from its keyframe.
      this.worker = this.successor;
      this.successor = undefined;
      this.log.warn({ reason }, 'pipeline worker exited during a handover; its successor takes over');
      return;
    }
    this.worker = undefined;
    // Its last packets may still wait in the socket: they must not look like a restarted encoder.
    this.fanout.ssrc = undefined;
    this.keyframes.cancel();
    const wasRunning = this.state === 'running';
    if (this.state === 'stopping' || this.stopped || this.subscribers.size === 0) {
      this.toIdle();
      this.rejectWaiters(reason);
      return;
    }
    if (wasRunning) this.backoff.ended(performance.now());
    // Viewers that were still waiting for a start hear now rather than at their timeout.
    this.rejectWaiters(reason);
    this.state = 'restarting';
    if (wasRunning) for (const subscriber of this.subscribers) subscriber.down(reason);
    const delay = this.backoff.next();
    this.log.warn({ delayMs: delay, reason }, 'restarting pipeline');
    this.restartTimer = setTimeout(() => {
      this.restarts++;
      this.startWorker();
    }, delay);
  }

  /** The first RTP after a (re)start is what shows the encoder works, not the worker's own word. */
  private inspect(header: RtpHeaderInfo): void {
    if (this.state === 'starting' || this.state === 'restarting') {
      const restarted = this.state === 'restarting';
      this.state = 'running';
      this.backoff.started(performance.now());
      for (const waiter of this.waiters) {
        clearTimeout(waiter.timer);
        waiter.resolve();
      }
      this.waiters = [];
      if (restarted) for (const subscriber of this.subscribers) subscriber.up();
    }
    if (this.spec.kind !== 'video') return;
    if (header.marker) this.counts.frames++;
    const info = inspectVideoPayload(this.spec.codec, header.payload);
    if (info.keyframe && header.timestamp !== this.counts.lastKeyTimestamp) {
      this.counts.keyframes++;
      this.counts.lastKeyTimestamp = header.timestamp;
    }
    if (info.width && info.height) {
      this.counts.width = info.width;
      this.counts.height = info.height;
    }
  }

  private sampleMeter(): void {
    this.meter.fps = this.counts.frames - this.meter.frames;
    this.meter.kbps = Math.round(((this.fanout.bytes - this.meter.bytes) * 8) / 1000);
    this.meter.frames = this.counts.frames;
    this.meter.bytes = this.fanout.bytes;
  }

  private onUsage(micros: number): void {
    const now = performance.now();
    const elapsedMicros = (now - this.cpu.at) * 1000;
    if (elapsedMicros > 0) this.cpu.percent = Math.round(((micros - this.cpu.micros) / elapsedMicros) * 1000) / 10;
    this.cpu.micros = micros;
    this.cpu.at = now;
  }

  private rejectWaiters(reason: string): void {
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new MediaError('MEDIA_UNAVAILABLE', 'the media pipeline could not start', reason));
    }
    this.waiters = [];
  }

  private toIdle(): void {
    this.state = 'idle';
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    clearInterval(this.meterTimer);
    this.meterTimer = undefined;
    this.meter = { frames: this.counts.frames, bytes: this.fanout.bytes, fps: 0, kbps: 0 };
    this.cpu.percent = null;
  }

  private stopWorker(): Promise<void> {
    this.dropSuccessor();
    const worker = this.worker;
    // Without a pid the fork failed: its 'error' event, already queued, reports it gone.
    if (!worker || worker.pid === undefined) {
      this.toIdle();
      return Promise.resolve();
    }
    this.state = 'stopping';
    return new Promise((resolve) => {
      const kill = setTimeout(() => worker.kill('SIGKILL'), STOP_GRACE_MS);
      worker.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      this.send({ type: 'stop' });
    });
  }

  private send(message: ParentMessage): void {
    if (this.worker?.connected) this.worker.send(message);
  }
}
