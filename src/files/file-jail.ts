/**
 * A folder that clients upload into and download from, and nothing outside it. The folder is typically
 * writable by the desktop's app, so whatever is in it may have been planted to escape: a symbolic link,
 * a symlinked folder, a FIFO that would block a reader. Every name is checked (splitName), every folder on
 * the way must be a real folder (lstat), the file itself is opened with O_NOFOLLOW, and the opened
 * descriptor's real path (/proc/self/fd) must still lie inside the folder, so a swap between check and
 * open is caught too. Uploads stream into a temporary file beside the target, created with O_EXCL, and
 * become the file by rename (or link, when an existing file must not be replaced) only when complete:
 * an upload over the size limit, aborted or failed leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, open, readdir, readlink, realpath, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FileTransferError, splitName } from './file-name.js';

/** Temporary upload files start with this; listings leave them out. */
export const UPLOAD_TEMP_PREFIX = '.streamgate-upload-';

export interface FileEntry {
  name: string;
  size: number;
  mtimeMs: number;
}

export interface FileJailOptions {
  /** The largest upload, in bytes. Default 1 GiB. */
  maxUploadBytes?: number;
}

export interface WriteOptions {
  /** An existing file of that name is replaced (default), or the upload fails with 'exists'. */
  replace?: boolean;
  signal?: AbortSignal;
}

function ioError(err: unknown, what: string): FileTransferError {
  if (err instanceof FileTransferError) return err;
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return new FileTransferError('not-found', `${what}: no such file`);
    case 'ELOOP':
      return new FileTransferError('symlink', `${what}: is a symbolic link`);
    case 'EISDIR':
    case 'ENOTDIR':
      return new FileTransferError('not-a-file', `${what}: not a regular file`);
    case 'EEXIST':
      return new FileTransferError('exists', `${what}: a file of that name exists`);
    default:
      return new FileTransferError('io', `${what}: ${e.message}`);
  }
}

export class FileJail {
  readonly maxUploadBytes: number;

  private constructor(
    /** The folder's real path (symbolic links in the configured path resolved once, at open). */
    readonly root: string,
    options: FileJailOptions,
  ) {
    this.maxUploadBytes = options.maxUploadBytes ?? 1024 ** 3;
  }

  static async open(folder: string, options: FileJailOptions = {}): Promise<FileJail> {
    if (options.maxUploadBytes !== undefined && !(Number.isSafeInteger(options.maxUploadBytes) && options.maxUploadBytes >= 0)) {
      throw new RangeError(`bad maxUploadBytes ${options.maxUploadBytes}`);
    }
    const root = await realpath(folder).catch((err: unknown) => {
      throw ioError(err, `file folder ${folder}`);
    });
    if (!(await lstat(root)).isDirectory()) throw new FileTransferError('not-a-file', `file folder ${folder} is not a folder`);
    return new FileJail(root, options);
  }

  /**
   * The absolute path of `name` inside the folder, its parent folders checked (each a real folder, no
   * symbolic link). The last component is not checked here: opening it with O_NOFOLLOW does that.
   */
  async resolve(name: unknown): Promise<{ path: string; parent: string; base: string }> {
    const parts = splitName(name);
    let parent = this.root;
    for (const part of parts.slice(0, -1)) {
      parent = join(parent, part);
      const st = await lstat(parent).catch((err: unknown) => {
        throw ioError(err, `folder ${JSON.stringify(part)} of ${JSON.stringify(name)}`);
      });
      if (st.isSymbolicLink()) throw new FileTransferError('symlink', `${JSON.stringify(name)}: folder ${JSON.stringify(part)} is a symbolic link`);
      if (!st.isDirectory()) throw new FileTransferError('not-a-file', `${JSON.stringify(name)}: ${JSON.stringify(part)} is not a folder`);
    }
    const base = parts[parts.length - 1] as string;
    return { path: join(parent, base), parent, base };
  }

  /** The regular files directly in the folder (no links, folders or temporary uploads), by name. */
  async list(): Promise<FileEntry[]> {
    const entries = await readdir(this.root, { withFileTypes: true });
    const files: FileEntry[] = [];
    for (const entry of entries) {
      if (!entry.isFile() || entry.name.startsWith(UPLOAD_TEMP_PREFIX)) continue;
      const st = await lstat(join(this.root, entry.name)).catch(() => null);
      if (st?.isFile()) files.push({ name: entry.name, size: st.size, mtimeMs: st.mtimeMs });
    }
    return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Opens a regular file of the folder for download; the caller consumes (or destroys) the stream. */
  async read(name: unknown): Promise<{ stream: Readable; size: number; mtimeMs: number }> {
    const { path } = await this.resolve(name);
    // O_NONBLOCK: a FIFO planted under that name must not block the open (it is then refused as not a file).
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((err: unknown) => {
      throw ioError(err, JSON.stringify(name));
    });
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new FileTransferError('not-a-file', `${JSON.stringify(name)} is not a regular file`);
      await this.checkInside(handle, name);
      return { stream: handle.createReadStream(), size: st.size, mtimeMs: st.mtimeMs };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /**
   * Streams `source` into the file `name` (its folders must exist). Over maxUploadBytes, aborted through
   * `signal`, or failing, the partial file is removed and the promise rejects ('too-large', 'aborted', 'io').
   */
  async write(name: unknown, source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>, options: WriteOptions = {}): Promise<FileEntry> {
    const { path, parent } = await this.resolve(name);
    if (options.signal?.aborted) throw new FileTransferError('aborted', `upload of ${JSON.stringify(name)} aborted`);
    const temp = join(parent, `${UPLOAD_TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644).catch((err: unknown) => {
      throw ioError(err, `upload of ${JSON.stringify(name)}`);
    });
    let size = 0;
    let done = false;
    try {
      await this.checkInside(handle, name);
      const aborted = new Promise<never>((_, reject) => {
        options.signal?.addEventListener('abort', () => reject(new FileTransferError('aborted', `upload of ${JSON.stringify(name)} aborted after ${size} bytes`)), { once: true });
      });
      aborted.catch(() => undefined);
      const copy = async (): Promise<void> => {
        for await (const chunk of source) {
          if (options.signal?.aborted) throw new FileTransferError('aborted', `upload of ${JSON.stringify(name)} aborted after ${size} bytes`);
          const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
          size += bytes.length;
          if (size > this.maxUploadBytes) throw new FileTransferError('too-large', `upload of ${JSON.stringify(name)} is larger than ${this.maxUploadBytes} bytes`);
          await handle.write(bytes);
        }
      };
      const copying = copy();
      // Once aborted, the copy may still be waiting on the source: its later failure is nobody's to handle.
      copying.catch(() => undefined);
      await Promise.race([copying, aborted]);
      await handle.sync();
      await handle.close();
      if (options.replace === false) {
        await link(temp, path); // fails with EEXIST, atomically, when the name is taken
        await unlink(temp);
      } else {
        // rename() replaces a symbolic link of that name itself, never its target.
        await rename(temp, path);
      }
      done = true;
      const st = await lstat(path);
      return { name: String(name), size, mtimeMs: st.mtimeMs };
    } catch (err) {
      throw ioError(err, `upload of ${JSON.stringify(name)}`);
    } finally {
      if (!done) {
        await handle.close().catch(() => undefined);
        await unlink(temp).catch(() => undefined);
      }
    }
  }

  /** The descriptor's real path must be inside the folder (a parent swapped for a link after resolve() is caught here). */
  private async checkInside(handle: FileHandle, name: unknown): Promise<void> {
    const real = await readlink(`/proc/self/fd/${handle.fd}`);
    if (!real.startsWith(`${this.root}/`)) throw new FileTransferError('symlink', `${JSON.stringify(name)} lies outside the file folder`);
  }
}
