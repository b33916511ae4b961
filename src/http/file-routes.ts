/**
 * File transfer over HTTP for the peer that may control the desktop (docs/protocol.md, "Extensions"):
 *
 *   GET /files/                  which folders there are and the upload limit, as JSON
 *   GET /files/download          the download folder's files, as JSON
 *   GET /files/download/<name>   one of them, byte for byte
 *   PUT /files/upload/<name>     the request body becomes that file of the upload folder (never replacing one)
 *
 * for a live session of the control role (session-credentials.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { FileTransferError, type FileErrorCode, type FileJail } from '../files/index.js';
import { controlSession, HttpRefusal, sendFailure, type SessionCredentialsOptions } from './session-credentials.js';
import { sendJson } from './json-response.js';

export const FILES_PREFIX = '/files/';

export interface FileRoutesOptions extends SessionCredentialsOptions {
  upload: FileJail | null;
  download: FileJail | null;
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
  try {
    await controlSession(req, options, 'File transfers');
    const rest = path.slice(FILES_PREFIX.length);
    if (req.method === 'GET' && rest === '') {
      sendJson(res, 200, { upload: options.upload !== null, download: options.download !== null, max_upload_size: options.upload?.maxUploadBytes ?? 0 });
    } else if (req.method === 'GET' && rest === 'download') {
      sendJson(res, 200, { files: await folder(options.download, 'download').list() });
    } else if (req.method === 'GET' && rest.startsWith('download/')) {
      await download(res, folder(options.download, 'download'), fileName(rest.slice('download/'.length)));
    } else if (req.method === 'PUT' && rest.startsWith('upload/')) {
      await upload(req, res, folder(options.upload, 'upload'), fileName(rest.slice('upload/'.length)));
    } else {
      throw new HttpRefusal(404, 'no-such-endpoint', `${req.method ?? '?'} ${path}: use GET /files/download[/<name>] or PUT /files/upload/<name>.`);
    }
  } catch (err) {
    sendFailure(req, res, err, (e) => (e instanceof FileTransferError ? new HttpRefusal(STATUS[e.code], e.code, e.message) : null));
  }
}
