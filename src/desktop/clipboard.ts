/**
 * The desktop's clipboard for a remote viewer: read what a desktop app copied (UTF-8 text or a PNG),
 * make text or a PNG the desktop's selection so apps paste it, and report when the selection changes.
 *
 * Owning a selection means answering every paste request, with INCR transfers for anything larger than
 * a request (BIG-REQUESTS is off on our connections); `xclip` already does that well, so a selection we
 * set is served by an `xclip -quiet` process (tethered: it ends with this server) that holds the content
 * until another app takes the selection (xclip then exits) or we set a new one. Reads run `xclip -o`,
 * bounded in size and time. Changes come from XFIXES selection events on our own connection.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logger } from '../log.js';
import { terminate, tail } from '../process/child-process.js';
import { spawnTethered } from '../process/spawn-tethered.js';
import { SerialQueue } from '../util/serial-queue.js';
import { XConnection } from '../x11/x11-connection.js';
import { internAtom, SelectionEventMask, XFixes } from '../x11/xfixes.js';

const log = logger('desktop.clipboard');

export type SelectionName = 'clipboard' | 'primary';

export type ClipboardContent = { kind: 'text'; text: string } | { kind: 'image'; mime: 'image/png'; data: Buffer };

export type ClipboardErrorCode = 'too-large' | 'not-png' | 'timeout' | 'failed';

export class ClipboardError extends Error {
  constructor(
    readonly code: ClipboardErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ClipboardError';
  }
}

export interface SelectionChange {
  selection: SelectionName;
  /** The window that owns the selection now; 0: nobody (its owner went away). */
  owner: number;
  /** The owner is the content this module set (a viewer's own paste coming back: not worth sending to it). */
  ours: boolean;
}

export interface ClipboardEvents {
  change: [SelectionChange];
  /** The X connection ended; `error` is null after stop(). */
  close: [Error | null];
}

export interface ClipboardOptions {
  /** The most bytes read or set at once. Default 8 MiB. */
  maxBytes?: number;
  /** How long a read or a set may take. Default 3 s. */
  timeoutMs?: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const TEXT_TARGETS = ['UTF8_STRING', 'text/plain;charset=utf-8', 'STRING', 'TEXT'];
/** PRIMARY is a predefined atom; CLIPBOARD is interned. */
const PRIMARY_ATOM = 1;

interface Server {
  process: ChildProcess;
  /** Its window, once its ownership was seen; 0 before. */
  window: number;
}

export class DesktopClipboard extends EventEmitter<ClipboardEvents> {
  private readonly servers = new Map<SelectionName, Server>();
  private readonly readers = new Set<ChildProcess>();
  /** One set at a time: a selection's owner window is told apart by being the first owner after its xclip started. */
  private readonly writes = new SerialQueue();
  readonly maxBytes: number;
  private readonly timeoutMs: number;

  private constructor(
    readonly display: string,
    private readonly conn: XConnection,
    private readonly atoms: Record<SelectionName, number>,
    options: ClipboardOptions,
  ) {
    super();
    this.maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
    this.timeoutMs = options.timeoutMs ?? 3000;
  }

  /** Connects to `display` and starts watching CLIPBOARD and PRIMARY. */
  static async start(display: string, options: ClipboardOptions = {}): Promise<DesktopClipboard> {
    if (options.maxBytes !== undefined && !(Number.isInteger(options.maxBytes) && options.maxBytes > 0)) throw new RangeError(`bad clipboard maxBytes ${options.maxBytes}`);
    const conn = await XConnection.connect(display);
    try {
      const xfixes = await XFixes.init(conn);
      const atoms = { clipboard: await internAtom(conn, 'CLIPBOARD'), primary: PRIMARY_ATOM };
      const clipboard = new DesktopClipboard(display, conn, atoms, options);
      const mask = SelectionEventMask.SetSelectionOwner | SelectionEventMask.SelectionWindowDestroy | SelectionEventMask.SelectionClientClose;
      for (const atom of Object.values(atoms)) xfixes.selectSelectionInput(conn.root, atom, mask);
      conn.on('event', (ev) => {
        const e = xfixes.decode(ev);
        if (e?.kind === 'selection') clipboard.onOwnerChange(e.selection, e.owner);
      });
      conn.on('x-error', (err) => log.debug({ code: err.error, seq: err.seq }, 'X error on the clipboard connection'));
      conn.on('close', (err) => clipboard.emit('close', err));
      await conn.sync();
      return clipboard;
    } catch (err) {
      conn.destroy();
      throw err;
    }
  }

  private onOwnerChange(atom: number, owner: number): void {
    const selection: SelectionName | null = atom === this.atoms.clipboard ? 'clipboard' : atom === this.atoms.primary ? 'primary' : null;
    if (!selection) return;
    const server = this.servers.get(selection);
    // The first owner seen after our xclip started is its window: xclip takes the selection once, at start.
    if (server && server.window === 0 && owner !== 0) server.window = owner;
    const ours = server !== undefined && owner !== 0 && owner === server.window;
    this.emit('change', { selection, owner, ours });
  }

  // ---- reading -----------------------------------------------------------------------------------

  /** What `selection` holds now: a PNG when an app offers one, else its text; null when nobody owns it or it has neither. */
  async read(selection: SelectionName = 'clipboard'): Promise<ClipboardContent | null> {
    const targets = await this.readTarget(selection, 'TARGETS');
    if (!targets) return null;
    const offered = new Set(targets.toString('latin1').split('\n').map((t) => t.trim()));
    if (offered.has('image/png')) {
      const data = await this.readTarget(selection, 'image/png');
      if (data && data.subarray(0, 8).equals(PNG_SIGNATURE)) return { kind: 'image', mime: 'image/png', data };
    }
    const textTarget = TEXT_TARGETS.find((t) => offered.has(t));
    if (!textTarget) return null;
    const text = await this.readTarget(selection, textTarget);
    return text ? { kind: 'text', text: text.toString('utf8') } : null;
  }

  /** `xclip -o` of one target: null when it is not available (xclip says so and exits 1). */
  private async readTarget(selection: SelectionName, target: string): Promise<Buffer | null> {
    const child = spawn('xclip', ['-selection', selection, '-o', '-t', target], { env: this.xclipEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.readers.add(child);
    const chunks: Buffer[] = [];
    let size = 0;
    let failure: ClipboardError | null = null;
    const stderr = tail(child.stderr);
    const stop = (error: ClipboardError): void => {
      failure ??= error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(new ClipboardError('timeout', `reading ${target} of ${selection} took over ${this.timeoutMs} ms`)), this.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.maxBytes) return stop(new ClipboardError('too-large', `the ${selection} selection is larger than ${this.maxBytes} bytes`));
      chunks.push(chunk);
    });
    const [code] = (await once(child, 'close')) as [number | null];
    clearTimeout(timer);
    this.readers.delete(child);
    if (failure) throw failure;
    // Exit 1: xclip's "target not available" (or no owner at all).
    if (code === 1) return null;
    if (code !== 0) throw new ClipboardError('failed', `xclip -o -t ${target} exited ${code}: ${stderr().trim().slice(-200)}`);
    return Buffer.concat(chunks);
  }

  // ---- setting -----------------------------------------------------------------------------------

  /** Makes `text` the desktop's selection (CLIPBOARD, PRIMARY or both); resolves once the desktop owns it. */
  async writeText(text: string, selections: readonly SelectionName[] = ['clipboard']): Promise<void> {
    const data = Buffer.from(text, 'utf8');
    for (const selection of selections) await this.serve(selection, data, null);
  }

  /** Makes a PNG the desktop's CLIPBOARD (image/png); resolves once the desktop owns it. */
  async writeImage(png: Buffer): Promise<void> {
    if (!png.subarray(0, 8).equals(PNG_SIGNATURE)) throw new ClipboardError('not-png', 'the image is not a PNG file (no PNG signature)');
    await this.serve('clipboard', png, 'image/png');
  }

  private serve(selection: SelectionName, data: Buffer, target: string | null): Promise<void> {
    return this.writes.push(() => this.startServer(selection, data, target));
  }

  private async startServer(selection: SelectionName, data: Buffer, target: string | null): Promise<void> {
    if (data.length > this.maxBytes) throw new ClipboardError('too-large', `${data.length} bytes is more than the clipboard's ${this.maxBytes}`);
    if (this.conn.closed) throw new ClipboardError('failed', `the X connection to ${this.display} is closed`);
    // xclip reads a file (the tether keeps stdin as its lifeline); the file goes once xclip owns the selection.
    const dir = await mkdtemp(join(tmpdir(), 'streamgate-clip-'));
    try {
      const file = join(dir, 'content');
      await writeFile(file, data, { mode: 0o600 });
      const previous = this.servers.get(selection);
      const child = spawnTethered('xclip', ['-quiet', '-selection', selection, ...(target ? ['-t', target] : []), '-i', file], { env: this.xclipEnv(), output: 'pipe' });
      child.stdout?.resume();
      const stderr = tail(child.stderr);
      const server: Server = { process: child, window: 0 };
      this.servers.set(selection, server);
      child.once('exit', () => {
        if (this.servers.get(selection) === server) this.servers.delete(selection);
      });
      await this.untilOwned(selection, server, stderr);
      if (previous) await terminate(previous.process);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private untilOwned(selection: SelectionName, server: Server, stderr: () => string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (err: ClipboardError | null): void => {
        clearTimeout(timer);
        this.off('change', onChange);
        server.process.off('exit', onExit);
        if (!err) return resolve();
        void terminate(server.process);
        reject(err);
      };
      const onChange = (c: SelectionChange): void => {
        if (c.selection === selection && c.ours) done(null);
      };
      const onExit = (code: number | null): void => done(new ClipboardError('failed', `xclip exited (${code}) before it owned ${selection}: ${stderr().trim().slice(-200)}`));
      const timer = setTimeout(() => done(new ClipboardError('timeout', `xclip did not own ${selection} within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.on('change', onChange);
      server.process.once('exit', onExit);
    });
  }

  private xclipEnv(): NodeJS.ProcessEnv {
    return { ...process.env, DISPLAY: this.display, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };
  }

  /** Ends the xclip processes (the desktop loses what we set) and the X connection. */
  async stop(): Promise<void> {
    for (const reader of this.readers) reader.kill('SIGKILL');
    const servers = [...this.servers.values()].map((s) => s.process);
    this.servers.clear();
    this.conn.destroy();
    await Promise.all(servers.map((p) => terminate(p)));
  }
}
