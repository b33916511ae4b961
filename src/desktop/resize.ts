/**
 * Resizes the virtual desktop's screen through RandR, with the `xrandr` tool, the way Selkies does:
 * a mode of the wanted size is created and added to the one output when missing, then the output is
 * switched to it (xrandr resizes the framebuffer with it). Xvfb's RandR accepts any size up to the
 * `-screen` size it was started with, which is the largest the screen can become; `xrandr --fb` alone is
 * refused (BadValue) while the output's mode is larger than the new framebuffer. Sizes are made even
 * (the video encoders need even dimensions) and clamped to the maximum. Modes this module created and no
 * longer uses are removed, so a viewer resizing its window a thousand times leaves no thousand modes.
 */
import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { promisify } from 'node:util';
import { logger } from '../log.js';
import { SerialQueue } from '../util/serial-queue.js';
import type { ScreenSize } from './screen-size.js';

const log = logger('desktop.resize');
const run = promisify(execFile);

export const MIN_SCREEN_SIDE = 16;

export interface RandrState {
  output: string;
  current: ScreenSize;
  maximum: ScreenSize;
  /** Mode names the output has. */
  modes: string[];
}

export interface ScreenResizerOptions {
  /** The largest size allowed (further bounded by the X server's own maximum). */
  maxWidth?: number;
  maxHeight?: number;
  /** How long one xrandr run may take. Default 5 s. */
  timeoutMs?: number;
}

export interface ScreenResizerEvents {
  /** The screen now has this size (after a resize() that changed it). */
  resize: [ScreenSize];
}

export class ScreenResizer extends EventEmitter<ScreenResizerEvents> {
  private readonly queue = new SerialQueue();
  /** Modes created here, by name. */
  private readonly created = new Set<string>();

  /** `display` is read at each resize: a restarted desktop may have another display number. */
  constructor(
    private readonly display: () => string,
    private readonly options: ScreenResizerOptions = {},
  ) {
    super();
    for (const side of [options.maxWidth, options.maxHeight]) {
      if (side !== undefined && !(Number.isInteger(side) && side >= MIN_SCREEN_SIDE)) throw new RangeError(`bad maximum screen side ${side}`);
    }
  }

  /** The screen's RandR state as `xrandr` reports it. */
  async query(): Promise<RandrState> {
    return parseXrandr(await this.xrandr([]), this.display());
  }

  /**
   * Makes the screen `width`x`height`, rounded down to even numbers and clamped to the maximum; resolves
   * with the size applied. Calls run one at a time, in order.
   */
  resize(width: number, height: number): Promise<ScreenSize> {
    if (!Number.isFinite(width) || !Number.isFinite(height) || width < MIN_SCREEN_SIDE || height < MIN_SCREEN_SIDE) {
      return Promise.reject(new RangeError(`bad screen size ${width}x${height}: each side must be a number of at least ${MIN_SCREEN_SIDE}`));
    }
    return this.queue.push(() => this.apply(width, height));
  }

  private async apply(wantedWidth: number, wantedHeight: number): Promise<ScreenSize> {
    const state = await this.query();
    const even = (v: number, max: number): number => Math.max(MIN_SCREEN_SIDE, Math.floor(Math.min(v, max) / 2) * 2);
    const size = {
      width: even(wantedWidth, Math.min(state.maximum.width, this.options.maxWidth ?? Infinity)),
      height: even(wantedHeight, Math.min(state.maximum.height, this.options.maxHeight ?? Infinity)),
    };
    if (size.width === state.current.width && size.height === state.current.height) return size;
    const name = `${size.width}x${size.height}`;
    if (!state.modes.includes(name)) {
      // Xvfb has no video timings: a mode is only its size.
      await this.xrandr(['--newmode', name, '0', String(size.width), '0', '0', '0', String(size.height), '0', '0', '0']);
      await this.xrandr(['--addmode', state.output, name]);
      this.created.add(name);
    }
    await this.xrandr(['--output', state.output, '--mode', name]);
    const after = await this.query();
    if (after.current.width !== size.width || after.current.height !== size.height) {
      throw new Error(`RandR on ${this.display()} shows ${after.current.width}x${after.current.height} after switching to ${name}`);
    }
    for (const old of [...this.created]) {
      if (old === name) continue;
      this.created.delete(old);
      await this.xrandr(['--delmode', state.output, old]).catch((err: Error) => log.debug({ mode: old, err: err.message }, 'mode not removed from the output'));
      await this.xrandr(['--rmmode', old]).catch((err: Error) => log.debug({ mode: old, err: err.message }, 'mode not removed'));
    }
    log.info({ display: this.display(), ...size }, 'screen resized through RandR');
    this.emit('resize', size);
    return size;
  }

  private async xrandr(args: string[]): Promise<string> {
    const display = this.display();
    try {
      const { stdout } = await run('xrandr', ['-display', display, ...args], { timeout: this.options.timeoutMs ?? 5000, encoding: 'utf8' });
      return stdout;
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new Error(`xrandr ${args.join(' ')} on ${display} failed: ${(e.stderr ?? e.message).trim().slice(-300)}`);
    }
  }
}

/** Reads `xrandr`'s listing: "Screen 0: minimum …, current W x H, maximum W x H", then the connected output and its modes. */
export function parseXrandr(text: string, display: string): RandrState {
  const screen = /current (\d+) x (\d+), maximum (\d+) x (\d+)/.exec(text);
  const output = /^(\S+) connected/m.exec(text);
  if (!screen || !output) throw new Error(`xrandr on ${display} lists no screen size or no connected output`);
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`${output[1]} connected`));
  const modes: string[] = [];
  for (const line of lines.slice(at + 1)) {
    const m = /^\s+(\S+)\s/.exec(line);
    if (!m) break;
    modes.push(m[1] as string);
  }
  return {
    output: output[1] as string,
    current: { width: Number(screen[1]), height: Number(screen[2]) },
    maximum: { width: Number(screen[3]), height: Number(screen[4]) },
    modes,
  };
}
