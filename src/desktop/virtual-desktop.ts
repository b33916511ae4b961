import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { rm } from 'node:fs/promises';
import type { PulseCapture } from '../audio/pulse-capture.js';
import { logger } from '../log.js';
import { terminate, tail } from '../process/child-process.js';
import { RestartBackoff } from '../process/restart-backoff.js';
import { spawnTethered } from '../process/spawn-tethered.js';
import { environmentFor, homeFor, unprivilegedAccount, type ChildHome, type UserAccount } from '../process/user-account.js';
import { PulseAudioServer, pulseAudioInstalled } from './pulse-audio-server.js';
import { ScreenResizer } from './resize.js';
import type { ScreenSize } from './screen-size.js';
import { EventMask, XConnection, XEvent, type XRawEvent } from '../x11/x11-connection.js';

const log = logger('desktop.virtual');

export type { ScreenSize };

/** A readable terminal: a TrueType font, UTF-8, sized to the screen by the desktop once mapped. */
export const DEFAULT_APP: readonly string[] = ['xterm', '-u8', '-fa', 'DejaVu Sans Mono', '-fs', '13', '-bg', 'black', '-fg', 'gray90', '-title', 'streamgate'];

export interface VirtualDesktopOptions {
  width?: number;
  height?: number;
  /**
   * The largest the screen may become through RandR (ScreenResizer): Xvfb's framebuffer is made this
   * size, and the screen is switched to width x height (made even) once Xvfb is up. Default: width x
   * height, and the screen can only shrink.
   */
  maxSize?: ScreenSize;
  /**
   * What runs inside: an argv array (run directly), a command line string (run with `sh -c`), or null
   * for an empty screen. The plain string `'xterm'` and `undefined` both mean DEFAULT_APP.
   */
  app?: string | readonly string[] | null;
  /** Extra environment for the app (DISPLAY is always set; LANG defaults to C.UTF-8 when unset). */
  appEnv?: NodeJS.ProcessEnv;
  /**
   * The account the app and the PulseAudio server run as when this process is root (name or uid; default
   * DEFAULT_APP_USER, `root` to keep root). The app gets that account's HOME (a private one when it has none
   * it owns), USER, LOGNAME and SHELL, and none of the server's STREAMGATE_* variables. Not root: both run as
   * this process does, and naming another account fails start().
   */
  appUser?: string;
  /** Move and resize the app's first top-level window to fill the screen (and again on resize). Default true. */
  fitAppWindow?: boolean;
  /**
   * Clear the keycodes that only carry vendor keysyms (XF86Mail, XF86Launch1 …; not the audio and
   * media keys), so that input has about a hundred spare keycodes to bind characters missing from
   * the keymap to, instead of 19. Default true.
   */
  freeVendorKeycodes?: boolean;
  /**
   * Give the desktop its own PulseAudio server (a null sink whose monitor is streamed; the app gets
   * PULSE_SERVER). Default: when `pulseaudio` is installed. Without it, or if it fails to start, the
   * desktop is silent and says so in the log.
   */
  audio?: boolean;
  /** How long Xvfb may take to become ready. Default 10 s. */
  startTimeoutMs?: number;
  /** Restart delays of Xvfb and of the app: doubled after each one that ran under 10 s, from min to max. Default 250 ms … 5 s. */
  restartDelayMs?: { min: number; max: number };
}

export interface VirtualDesktopEvents {
  /** Xvfb is accepting connections (first start and after every restart). */
  'display-ready': [display: string];
  /** Xvfb died; a restart follows (same display number if it is still free). */
  'display-lost': [display: string, reason: string];
  /** The screen size changed (RandR); the new size is also in `size`. */
  resize: [ScreenSize];
  'app-start': [pid: number | undefined];
  /** The app mapped its first top-level window (already moved and sized to the screen when fitAppWindow). */
  'app-window': [window: number];
  /** The app ended; it is restarted while the desktop runs. */
  'app-exit': [code: number | null, signal: NodeJS.Signals | null];
}

type State = 'idle' | 'starting' | 'ready' | 'restarting' | 'stopped';

/**
 * A private X display: Xvfb (`-displayfd`, so the number is free and chosen by Xvfb) with an app in it,
 * and (when PulseAudio is installed) a private sound server whose output is the desktop's audio.
 * Xvfb runs with `-noreset` (else it resets when its last client leaves, undoing resizes and keymaps)
 * and key autorepeat off (injected client repeats must not be doubled). If the app exits it is
 * restarted; if Xvfb dies, 'display-lost' is emitted, Xvfb is restarted (same display number if
 * possible) and 'display-ready' follows. Every child runs through spawnTethered: none outlives the server.
 * A server running as root keeps Xvfb but hands the app and PulseAudio to an unprivileged account (appUser):
 * whoever reaches the desktop types into a shell, and it must not be root's.
 */
export class VirtualDesktop extends EventEmitter<VirtualDesktopEvents> {
  private state: State = 'idle';
  private displayNumber: number | null = null;
  private xvfb: ChildProcess | null = null;
  private app: ChildProcess | null = null;
  private monitor: XConnection | null = null;
  private audioServer: PulseAudioServer | null = null;
  /** Who the app runs as; null: as this process. */
  private account: UserAccount | null = null;
  private appHome: ChildHome | null = null;
  private currentSize: ScreenSize;
  private readonly appArgv: readonly string[] | null;
  private readonly xvfbBackoff: RestartBackoff;
  private readonly appBackoff: RestartBackoff;
  private appTimer: NodeJS.Timeout | null = null;
  private xvfbTimer: NodeJS.Timeout | null = null;
  private mainWindow = 0;

  constructor(private readonly options: VirtualDesktopOptions = {}) {
    super();
    const width = options.width ?? 1280;
    const height = options.height ?? 720;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 16 || height < 16 || width > 16384 || height > 16384) {
      throw new RangeError(`bad desktop size ${width}x${height}`);
    }
    this.currentSize = { width, height };
    const largest = options.maxSize;
    if (largest && !(Number.isInteger(largest.width) && Number.isInteger(largest.height) && largest.width >= width && largest.height >= height && largest.width <= 16384 && largest.height <= 16384)) {
      throw new RangeError(`bad maximum desktop size ${largest.width}x${largest.height} for a ${width}x${height} desktop`);
    }
    const app = options.app === undefined || options.app === 'xterm' ? DEFAULT_APP : options.app;
    this.appArgv = app === null ? null : typeof app === 'string' ? ['/bin/sh', '-c', app] : [...app];
    const { min, max } = options.restartDelayMs ?? { min: 250, max: 5000 };
    this.xvfbBackoff = new RestartBackoff(min, max);
    this.appBackoff = new RestartBackoff(min, max);
  }

  /** A method, not a property read: TypeScript would keep an earlier narrowing across `await`. */
  private stopped(): boolean {
    return this.state === 'stopped';
  }

  /**
   * `:N` while the display is up. Throws before start() resolved and while Xvfb is being restarted:
   * the old number may belong to another X server by then (use 'display-ready', or readyDisplay).
   */
  get display(): string {
    if (this.state !== 'ready' || this.displayNumber === null) throw new Error(`virtual desktop not ready (${this.state})`);
    return `:${this.displayNumber}`;
  }

  /** `:N` while the display is up, else null. */
  get readyDisplay(): string | null {
    return this.state === 'ready' && this.displayNumber !== null ? `:${this.displayNumber}` : null;
  }

  get ready(): boolean {
    return this.state === 'ready';
  }

  /** The screen's current size (follows RandR changes). */
  get size(): ScreenSize {
    return { ...this.currentSize };
  }

  /** The app's process id, if it runs (the tether's child; for tests and diagnostics). */
  get appPid(): number | undefined {
    return this.app?.pid;
  }

  /** The Xvfb tether's process id (a SIGTERM to it ends Xvfb). */
  get xvfbPid(): number | undefined {
    return this.xvfb?.pid;
  }

  /** The desktop's sound, while its PulseAudio server runs; null when the desktop is silent. */
  get audio(): PulseCapture | null {
    const server = this.audioServer;
    return server ? { server: server.server, device: server.monitorDevice } : null;
  }

  /** The PulseAudio tether's process id (a SIGTERM to it ends the daemon, which is then restarted). */
  get audioPid(): number | undefined {
    return this.audioServer?.pid;
  }

  /** The account the app runs as: null while it runs as this process does. */
  get appAccount(): UserAccount | null {
    return this.account;
  }

  /** Starts the audio server (when wanted), then Xvfb, waits until it accepts connections, then starts the app. */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`virtual desktop already ${this.state}`);
    this.state = 'starting';
    try {
      this.account = await unprivilegedAccount(this.options.appUser);
      if (this.account) {
        this.appHome = await homeFor(this.account);
        log.info({ user: this.account.name, uid: this.account.uid, home: this.appHome.path }, 'the app runs unprivileged');
      }
      await this.startAudio();
      await this.startXvfb(null);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async startAudio(): Promise<void> {
    if (this.options.audio === false) return;
    if (!pulseAudioInstalled()) {
      log.info('no pulseaudio installed: the desktop is silent (the audio track carries silence); `npm run setup` or `sudo apt-get install pulseaudio` gives it sound');
      return;
    }
    const server = new PulseAudioServer(this.account);
    try {
      await server.start();
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'desktop audio server failed to start: the desktop is silent');
      return;
    }
    if (this.stopped()) {
      await server.stop();
      throw new Error('virtual desktop stopped while starting');
    }
    this.audioServer = server;
  }

  /** Ends the app, Xvfb and the audio server; resolves when all have exited. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    if (this.appTimer) clearTimeout(this.appTimer);
    if (this.xvfbTimer) clearTimeout(this.xvfbTimer);
    this.monitor?.destroy();
    this.monitor = null;
    const app = this.app;
    const xvfb = this.xvfb;
    const audio = this.audioServer;
    const home = this.appHome;
    this.app = null;
    this.xvfb = null;
    this.audioServer = null;
    this.appHome = null;
    await Promise.all([terminate(app), terminate(xvfb), audio?.stop()]);
    if (home?.temporary) await rm(home.path, { recursive: true, force: true });
  }

  private async startXvfb(wanted: number | null): Promise<void> {
    const { width, height } = this.options.width && this.options.height ? { width: this.options.width, height: this.options.height } : this.currentSize;
    const args = [
      ...(wanted === null ? [] : [`:${wanted}`]),
      '-displayfd',
      '1',
      '-screen',
      '0',
      `${this.options.maxSize?.width ?? width}x${this.options.maxSize?.height ?? height}x24`,
      '-noreset',
      '-nolisten',
      'tcp',
    ];
    const child = spawnTethered('Xvfb', args, { output: 'pipe' });
    this.xvfb = child;
    this.xvfbBackoff.started();
    const stderrTail = tail(child.stderr);
    const number = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timeoutMs = this.options.startTimeoutMs ?? 10_000;
      const timer = setTimeout(() => done(new Error(`Xvfb did not become ready within ${timeoutMs} ms`)), timeoutMs);
      // 127: the tether could not start Xvfb at all, which is almost always that it is not installed.
      const onExit = (code: number | null): void =>
        done(
          new Error(
            code === 127
              ? `cannot run Xvfb (${stderrTail().trim().slice(-200)}): install it with \`npm run setup\` or \`sudo apt-get install xvfb\``
              : `Xvfb exited (${code}) before it was ready: ${stderrTail().trim().slice(-400)}`,
          ),
        );
      const done = (err: Error | null, n?: number): void => {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
        if (err) {
          child.kill('SIGTERM');
          reject(err);
        } else resolve(n as number);
      };
      const onData = (chunk: Buffer): void => {
        out += chunk.toString('latin1');
        const m = /^(\d+)\n/.exec(out);
        if (m) done(null, Number(m[1]));
      };
      child.stdout?.on('data', onData);
      child.once('exit', onExit);
    });
    child.stdout?.resume();
    if (this.stopped()) {
      await terminate(child);
      throw new Error('virtual desktop stopped while starting');
    }
    this.displayNumber = number;
    child.once('exit', (code, signal) => this.onXvfbExit(child, `Xvfb exited (code ${code}, signal ${signal}): ${stderrTail().trim().slice(-300)}`));
    const display = `:${number}`;
    let monitor: XConnection | null = null;
    try {
      monitor = await XConnection.connect(display);
      if (this.stopped()) throw new Error('virtual desktop stopped while starting');
      monitor.on('event', (ev) => this.onMonitorEvent(ev));
      monitor.on('x-error', (err) => log.debug({ code: err.error, seq: err.seq }, 'X error on the desktop monitor connection'));
      monitor.setAutoRepeat(false);
      monitor.selectInput(monitor.root, EventMask.StructureNotify | EventMask.SubstructureNotify);
      if (this.options.freeVendorKeycodes !== false) await freeVendorKeycodes(monitor);
      if (this.options.maxSize) await new ScreenResizer(() => display).resize(width, height);
      const geometry = await monitor.getGeometry();
      this.currentSize = { width: geometry.width, height: geometry.height };
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Xvfb on ${display} exited while starting`);
    } catch (err) {
      monitor?.destroy();
      if (this.xvfb === child) this.xvfb = null;
      await terminate(child);
      throw err;
    }
    if (this.stopped()) {
      monitor.destroy();
      throw new Error('virtual desktop stopped while starting');
    }
    this.monitor = monitor;
    monitor.on('close', () => {
      if (this.monitor === monitor) this.monitor = null;
    });

    this.state = 'ready';
    log.info({ display, ...this.currentSize }, 'virtual desktop ready');
    this.emit('display-ready', display);
    this.startApp();
  }

  private onXvfbExit(child: ChildProcess, reason: string): void {
    // While starting, startXvfb() sees the exit itself and fails (start() rejects, or a restart is retried).
    if (this.xvfb !== child || this.state !== 'ready') return;
    this.xvfb = null;
    this.monitor?.destroy();
    this.monitor = null;
    const display = `:${this.displayNumber}`;
    log.warn({ display, reason }, 'virtual display lost; restarting it');
    this.state = 'restarting';
    if (this.appTimer) clearTimeout(this.appTimer);
    this.appTimer = null;
    void terminate(this.app); // it would die with its display anyway
    this.app = null;
    this.emit('display-lost', display, reason);
    this.xvfbBackoff.ended();
    this.scheduleXvfbRestart(this.displayNumber);
  }

  private scheduleXvfbRestart(wanted: number | null): void {
    if (this.xvfbTimer) clearTimeout(this.xvfbTimer);
    const delay = this.xvfbBackoff.next();
    this.xvfbTimer = setTimeout(() => {
      this.xvfbTimer = null;
      if (this.state === 'stopped') return;
      this.startXvfb(wanted).catch((err: Error) => {
        if (this.state === 'stopped') return;
        log.warn({ wanted, err: err.message }, 'Xvfb restart failed');
        // The old number may be taken now: let Xvfb pick a free one next time.
        this.scheduleXvfbRestart(null);
      });
    }, delay);
  }

  private startApp(): void {
    if (!this.appArgv || this.state !== 'ready' || this.app) return;
    const [command, ...args] = this.appArgv as [string, ...string[]];
    const base = this.account && this.appHome ? environmentFor(this.account, this.appHome.path) : process.env;
    const env: NodeJS.ProcessEnv = { ...base, ...this.options.appEnv, DISPLAY: this.display };
    if (this.audioServer) env.PULSE_SERVER = this.audioServer.server;
    if (!env.LANG && !env.LC_ALL) env.LANG = 'C.UTF-8';
    const child = spawnTethered(command, args, { env, output: 'pipe', user: this.account ?? undefined });
    this.app = child;
    this.mainWindow = 0;
    this.appBackoff.started();
    const stderrTail = tail(child.stderr);
    child.stdout?.resume();
    log.info({ display: this.display, command, pid: child.pid }, 'app started');
    this.emit('app-start', child.pid);
    child.once('exit', (code, signal) => {
      if (this.app !== child) return;
      this.app = null;
      const output = stderrTail().trim().slice(-300);
      this.emit('app-exit', code, signal);
      if (this.state !== 'ready') return;
      this.appBackoff.ended();
      const delay = this.appBackoff.next();
      log.warn({ code, signal, output, restartInMs: delay }, 'app exited; restarting it');
      this.appTimer = setTimeout(() => {
        this.appTimer = null;
        this.startApp();
      }, delay);
    });
  }

  private onMonitorEvent(ev: XRawEvent): void {
    const monitor = this.monitor;
    if (!monitor) return;
    if (ev.type === XEvent.ConfigureNotify && ev.wid1 === monitor.root && ev.width && ev.height) {
      if (ev.width !== this.currentSize.width || ev.height !== this.currentSize.height) {
        this.currentSize = { width: ev.width, height: ev.height };
        log.info({ display: this.display, ...this.currentSize }, 'screen resized');
        if (this.mainWindow && this.options.fitAppWindow !== false) monitor.moveResizeWindow(this.mainWindow, 0, 0, ev.width, ev.height);
        this.emit('resize', this.size);
      }
    } else if (ev.type === XEvent.MapNotify && ev.event === monitor.root && ev.wid && !ev.overrideRedirect) {
      if (this.app && !this.mainWindow) {
        this.mainWindow = ev.wid;
        if (this.options.fitAppWindow !== false) monitor.moveResizeWindow(ev.wid, 0, 0, this.currentSize.width, this.currentSize.height);
        this.emit('app-window', ev.wid);
      }
    } else if (ev.type === XEvent.DestroyNotify && ev.wid === this.mainWindow) {
      this.mainWindow = 0;
    }
  }
}

/** XF86 vendor keysyms kept: volume, mute, play/pause, stop, previous, next. */
const KEPT_VENDOR_KEYSYMS = new Set([0x1008ff11, 0x1008ff12, 0x1008ff13, 0x1008ff14, 0x1008ff15, 0x1008ff16, 0x1008ff17, 0x1008ff31]);

function isFreeableVendorRow(row: ArrayLike<number>): boolean {
  let any = false;
  for (let i = 0; i < row.length; i++) {
    const ks = row[i] ?? 0;
    if (ks === 0) continue;
    if (ks < 0x10080000 || ks > 0x1008ffff || KEPT_VENDOR_KEYSYMS.has(ks)) return false;
    any = true;
  }
  return any;
}

/**
 * Clears vendor-only keycodes, one ChangeKeyboardMapping per run of them (other keys are not
 * rewritten: XKB would re-derive their key types from the core symbols). Returns how many.
 */
async function freeVendorKeycodes(conn: XConnection): Promise<number> {
  const m = await conn.getKeyboardMapping();
  const per = m.keysymsPerKeycode;
  const freeable = (kc: number) => isFreeableVendorRow(m.keysyms.subarray((kc - m.minKeycode) * per, (kc - m.minKeycode + 1) * per));
  let freed = 0;
  for (let kc = m.minKeycode; kc <= conn.maxKeycode; kc++) {
    if (!freeable(kc)) continue;
    let end = kc;
    while (end + 1 <= conn.maxKeycode && freeable(end + 1)) end++;
    conn.changeKeyboardMapping(kc, new Array<number>((end - kc + 1) * per).fill(0), per);
    freed += end - kc + 1;
    kc = end;
  }
  await conn.sync();
  log.debug({ freed }, 'vendor keycodes cleared for input');
  return freed;
}
