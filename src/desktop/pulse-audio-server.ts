import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { logger } from '../log.js';
import { terminate, tail } from '../process/child-process.js';
import { RestartBackoff } from '../process/restart-backoff.js';
import { spawnTethered } from '../process/spawn-tethered.js';
import { environmentFor, privateDirectory, type UserAccount } from '../process/user-account.js';

const log = logger('desktop.audio');

/** The null sink every app of the desktop plays into; its monitor is what gets streamed. */
export const DESKTOP_SINK = 'streamgate';

const MIN_RESTART_DELAY_MS = 250;
const MAX_RESTART_DELAY_MS = 5000;

/** Whether a `pulseaudio` binary is on PATH (the desktop streams silence without one). */
export function pulseAudioInstalled(): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, 'pulseaudio')));
}

/**
 * A private PulseAudio daemon for one virtual desktop: a null sink (the desktop's speakers) and an
 * anonymous unix socket in a fresh 0700 directory. Private rather than the user's own daemon so that
 * what is streamed is the desktop's sound and nothing else on the machine, and so that it runs
 * headless (no D-Bus, no session, as root too). `-n` skips default.pa: no hardware is probed.
 * A daemon that dies is started again on the same socket, so `server` never changes while it runs.
 * Given an account, the daemon runs as it and the directory is its own, so that the desktop's app, running
 * as that account too, can reach the socket; the server's encoders, as root, reach it all the same.
 */
export class PulseAudioServer {
  private child: ChildProcess | null = null;
  private dir: string | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly backoff = new RestartBackoff(MIN_RESTART_DELAY_MS, MAX_RESTART_DELAY_MS);

  constructor(private readonly account: UserAccount | null = null) {}

  /** The server string for PULSE_SERVER and GStreamer's pulsesrc `server`, once started. */
  get server(): string {
    if (!this.dir) throw new Error('PulseAudio server not started');
    return `unix:${join(this.dir, 'native')}`;
  }

  /** The source carrying everything played on the desktop. */
  get monitorDevice(): string {
    return `${DESKTOP_SINK}.monitor`;
  }

  /** The tether's process id while the daemon runs (a SIGTERM to it ends the daemon). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the daemon and resolves once its socket accepts connections. */
  async start(timeoutMs = 5000): Promise<void> {
    if (this.dir) throw new Error('PulseAudio server already started');
    this.dir = await privateDirectory('streamgate-pulse-', this.account);
    try {
      await this.spawn(this.dir, timeoutMs);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Ends the daemon and removes its directory. */
  async stop(): Promise<void> {
    const child = this.child;
    const dir = this.dir;
    this.child = null;
    this.dir = null;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    await terminate(child);
    if (dir) await rm(dir, { recursive: true, force: true });
  }

  private async spawn(dir: string, timeoutMs: number): Promise<void> {
    const socket = join(dir, 'native');
    const args = [
      '-n',
      '--daemonize=no',
      '--use-pid-file=false',
      '--exit-idle-time=-1',
      '--log-target=stderr',
      '-L',
      `module-null-sink sink_name=${DESKTOP_SINK} sink_properties=device.description=Streamgate`,
      '-L',
      `module-native-protocol-unix socket=${socket} auth-anonymous=1`,
    ];
    // HOME and XDG_RUNTIME_DIR point into the private directory: cookie, state and the runtime dir live there.
    const base = this.account ? environmentFor(this.account, dir) : { ...process.env, HOME: dir };
    const env: NodeJS.ProcessEnv = { ...base, XDG_RUNTIME_DIR: dir };
    delete env.PULSE_SERVER;
    const child = spawnTethered('pulseaudio', args, { env, output: 'pipe', user: this.account ?? undefined });
    this.child = child;
    const startedAt = Date.now();
    this.backoff.started(startedAt);
    const output = tail(child.stderr);
    child.stdout?.resume();
    // Registered before the wait: a daemon that dies while starting is retried too (start() stops that by failing).
    child.once('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      this.backoff.ended();
      const delay = this.backoff.next();
      log.warn({ code, signal, output: lastErrors(output()), restartInMs: delay }, 'pulseaudio exited; the desktop is silent until it is back');
      this.restartTimer = setTimeout(() => {
        this.restartTimer = null;
        if (this.dir !== dir) return;
        this.spawn(dir, timeoutMs).catch((err: Error) => log.error({ err: err.message }, 'pulseaudio restart failed'));
      }, delay);
    });
    const deadline = startedAt + timeoutMs;
    while (!(await accepts(socket))) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`pulseaudio exited before it was ready: ${lastErrors(output())}`);
      if (this.child !== child) throw new Error('PulseAudio server stopped while starting');
      if (Date.now() > deadline) {
        child.kill('SIGTERM'); // the tether ends the daemon's whole process group
        throw new Error(`pulseaudio did not accept connections within ${timeoutMs} ms: ${lastErrors(output())}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    log.info({ server: this.server, pid: child.pid }, 'desktop audio server ready');
  }
}

function accepts(socketPath: string): Promise<boolean> {
  if (!existsSync(socketPath)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** PulseAudio warns about root, cookies and D-Bus on every start; only its errors explain a failure. */
function lastErrors(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('E:'))
    .join('\n')
    .slice(-400);
}
