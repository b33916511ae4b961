/**
 * File transfer over HTTP for the peer that may control the desktop (docs/protocol.md, "Extensions"):
 *
 *   GET /files/                  which folders there are and the upload limit, as JSON
 *   GET /files/download          the download folder's files, as JSON
 *   GET /files/download/<name>   one of them, byte for byte
 *   PUT /files/upload/<name>     the request body becomes that file of the upload folder (never replacing one)
 *
 * Credentials: those of /ws when auth is on (Bearer token), and always a live signaling session, named by
 * its welcome's session_id and resume_token in the `X-Streamgate-Session` and `X-Streamgate-Resume-Token`
 * headers; that session must have the control role. Custom headers also keep other sites' pages out: a
 * browser sends them cross-origin only after a CORS preflight, which this server never grants.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { AuthError, type Principal } from '../auth/authenticator.js';
import { FileTransferError, type FileErrorCode, type FileJail } from '../files/index.js';

export const FILES_PREFIX = '/files/';
export const SESSION_HEADER = 'x-streamgate-session';
export const RESUME_TOKEN_HEADER = 'x-streamgate-resume-token';

export interface FileRoutesOptions {
  upload: FileJail | null;
  download: FileJail | null;
  /** The request's bearer credentials; resolves to OPEN_PRINCIPAL when auth is off. */
  authenticate: (req: IncomingMessage) => Promise<Principal | AuthError>;
  /** Who holds the live session of this id and resume token, or null. */
  sessionPrincipal: (sessionId: string, token: string) => Principal | null;
}

/** Each refusal of the file folders as an HTTP status: the JSON body names the reason (`error`) and says why. */
const STATUS: Record<FileErrorCode, number> = {
  'bad-name': 400,
  aborted: 400,
  symlink: 403,
  'not-a-file': 403,
  'not-found': 404,
  exists: 409,
  'too-large': 413,
  io: 500,
};

class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, close = false): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...(close ? { connection: 'close' } : {}) });
  res.end(JSON.stringify(body));
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

async function authorize(req: IncomingMessage, options: FileRoutesOptions): Promise<void> {
  const credentials = await options.authenticate(req);
  if (credentials instanceof AuthError) throw new HttpRefusal(401, 'UNAUTHORIZED', credentials.message);
  const sessionId = header(req, SESSION_HEADER);
  const token = header(req, RESUME_TOKEN_HEADER);
  if (!sessionId || !token) {
    throw new HttpRefusal(401, 'UNAUTHORIZED', `File transfers need a live session: send its session_id and resume_token in ${SESSION_HEADER} and ${RESUME_TOKEN_HEADER}.`);
  }
  const session = options.sessionPrincipal(sessionId, token);
  if (!session) throw new HttpRefusal(401, 'UNAUTHORIZED', 'No live session has this session id and resume token.');
  if (credentials.role !== 'control' || session.role !== 'control') {
    throw new HttpRefusal(403, 'FORBIDDEN', 'File transfers are for peers with the control role; these credentials allow viewing only.');
  }
}

function fileName(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw new FileTransferError('bad-name', `file name ${JSON.stringify(encoded.slice(0, 80))} refused: it is not valid percent-encoding`);
  }
}

function folder(jail: FileJail | null, which: 'upload' | 'download'): FileJail {
  if (!jail) throw new HttpRefusal(404, 'not-configured', `This server has no ${which} folder (--${which}-dir).`);
  return jail;
}

async function download(res: ServerResponse, jail: FileJail, name: string): Promise<void> {
  const file = await jail.read(name);
  const base = name.split('/').pop() ?? name;
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': String(file.size),
    'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(base)}`,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  await pipeline(file.stream, res);
}

async function upload(req: IncomingMessage, res: ServerResponse, jail: FileJail, name: string): Promise<void> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > jail.maxUploadBytes) {
    throw new FileTransferError('too-large', `upload of ${JSON.stringify(name)} (${declared} bytes) is larger than ${jail.maxUploadBytes} bytes (--max-upload-size)`);
  }
  const aborted = new AbortController();
  req.once('close', () => {
    if (!req.complete) aborted.abort();
  });
  const entry = await jail.write(name, req, { replace: false, signal: aborted.signal });
  sendJson(res, 201, entry);
}

/** Answers a request under FILES_PREFIX; every refusal is JSON `{error, message}` with a status that fits it. */
export async function handleFileRequest(req: IncomingMessage, res: ServerResponse, path: string, options: FileRoutesOptions): Promise<void> {
  const isUpload = req.method === 'PUT';
  try {
    await authorize(req, options);
    const rest = path.slice(FILES_PREFIX.length);
    if (req.method === 'GET' && rest === '') {
      sendJson(res, 200, { upload: options.upload !== null, download: options.download !== null, max_upload_size: options.upload?.maxUploadBytes ?? 0 });
    } else if (req.method === 'GET' && rest === 'download') {
      sendJson(res, 200, { files: await folder(options.download, 'download').list() });
    } else if (req.method === 'GET' && rest.startsWith('download/')) {
      await download(res, folder(options.download, 'download'), fileName(rest.slice('download/'.length)));
    } else if (isUpload && rest.startsWith('upload/')) {
      await upload(req, res, folder(options.upload, 'upload'), fileName(rest.slice('upload/'.length)));
    } else {
      throw new HttpRefusal(404, 'no-such-endpoint', `${req.method ?? '?'} ${path}: use GET /files/download[/<name>] or PUT /files/upload/<name>.`);
    }
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // An upload refused before its body was read: the connection closes instead of draining the rest.
    const close = isUpload && !req.complete;
    if (err instanceof HttpRefusal) sendJson(res, err.status, { error: err.reason, message: err.message }, close);
    else if (err instanceof FileTransferError) sendJson(res, STATUS[err.code], { error: err.code, message: err.message }, close);
    else throw err;
  }
}
