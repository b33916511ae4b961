/** What a client may name a file in a jailed folder, and the errors file transfers report. */

export type FileErrorCode =
  /** The name is not acceptable (empty, `.`/`..`, absolute, NUL, too long); the message says which. */
  | 'bad-name'
  /** The name, or a folder on its way, is a symbolic link, or the file's real place is outside the folder. */
  | 'symlink'
  | 'not-found'
  /** A folder, device, FIFO or socket, not a regular file. */
  | 'not-a-file'
  | 'exists'
  | 'too-large'
  | 'aborted'
  | 'io';

export class FileTransferError extends Error {
  constructor(
    readonly code: FileErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FileTransferError';
  }
}

/** Linux's NAME_MAX: the bytes of one path component. */
export const MAX_NAME_BYTES = 255;
/** Linux's PATH_MAX less the folder's own path, kept simple: the bytes of a whole relative name. */
export const MAX_PATH_BYTES = 1024;

/**
 * The components of a client-given relative name (`a/b.txt` is ['a', 'b.txt']), or a 'bad-name' error.
 * Separators are `/` only; a backslash is an ordinary character on Linux.
 */
export function splitName(name: unknown): string[] {
  const bad = (why: string): never => {
    throw new FileTransferError('bad-name', `file name ${JSON.stringify(typeof name === 'string' ? name.slice(0, 80) : typeof name)} refused: ${why}`);
  };
  if (typeof name !== 'string') return bad('not a string');
  if (name.length === 0) return bad('it is empty');
  if (name.includes('\0')) return bad('it contains a NUL character');
  if (name.startsWith('/')) return bad('absolute paths are not allowed');
  if (Buffer.byteLength(name, 'utf8') > MAX_PATH_BYTES) return bad(`it is longer than ${MAX_PATH_BYTES} bytes`);
  const parts = name.split('/');
  for (const part of parts) {
    if (part === '') return bad('it has an empty component (`//` or a trailing `/`)');
    if (part === '.' || part === '..') return bad(`\`${part}\` components are not allowed`);
    if (Buffer.byteLength(part, 'utf8') > MAX_NAME_BYTES) return bad(`a component is longer than ${MAX_NAME_BYTES} bytes`);
  }
  return parts;
}
