/**
 * The desktop's clipboard over HTTP for the peer in control (docs/protocol.md, "Clipboard"):
 *
 *   GET /clipboard   what CLIPBOARD holds: text/plain (UTF-8) or image/png; 204 when it holds neither
 *   PUT /clipboard   a text/plain body becomes CLIPBOARD and PRIMARY, an image/png body CLIPBOARD
 *
 * HTTP rather than the WebSocket because an image is larger than any signaling frame may be. The clipboard is
 * that of the session's desktop; the session must hold input control there (session-credentials.ts), and
 * `--clipboard` must allow the direction.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ClipboardError, type ClipboardErrorCode, type DesktopClipboard } from '../desktop/index.js';
import { controlSession, HttpRefusal, sendFailure, type SessionCredentialsOptions } from './session-credentials.js';

export const CLIPBOARD_PATH = '/clipboard';

export type ClipboardPolicy = 'off' | 'to-client' | 'to-desktop' | 'both';

export interface ClipboardRoutesOptions extends SessionCredentialsOptions {
  /** A desktop's clipboard, by desktop name; null without one. */
  clipboardOf: (desktop: string) => DesktopClipboard | null;
  policy: ClipboardPolicy;
}

const STATUS: Record<ClipboardErrorCode, number> = {
  'too-large': 413,
  'not-png': 415,
  timeout: 504,
  failed: 502,
};

/** The body, refused with 413 as soon as it passes `max` bytes. */
async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  const tooLarge = (): ClipboardError => new ClipboardError('too-large', `the clipboard content is larger than ${max} bytes (--max-clipboard-size)`);
  if (Number.isFinite(declared) && declared > max) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function read(res: ServerResponse, clipboard: DesktopClipboard): Promise<void> {
  const content = await clipboard.read('clipboard');
  if (!content) {
    res.writeHead(204, { 'cache-control': 'no-store' });
    res.end();
    return;
  }
  const body = content.kind === 'text' ? Buffer.from(content.text, 'utf8') : content.data;
  res.writeHead(200, {
    'content-type': content.kind === 'text' ? 'text/plain; charset=utf-8' : content.mime,
    'content-length': String(body.length),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

async function write(req: IncomingMessage, res: ServerResponse, clipboard: DesktopClipboard): Promise<void> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'text/plain' && type !== 'image/png') {
    throw new HttpRefusal(415, 'unsupported-type', `The clipboard takes text/plain (UTF-8) or image/png, not ${JSON.stringify(type || 'no content type')}.`);
  }
  const body = await readBody(req, clipboard.maxBytes);
  if (type === 'image/png') await clipboard.writeImage(body);
  else await clipboard.writeText(body.toString('utf8'), ['clipboard', 'primary']);
  res.writeHead(204, { 'cache-control': 'no-store' });
  res.end();
}

export async function handleClipboardRequest(req: IncomingMessage, res: ServerResponse, options: ClipboardRoutesOptions): Promise<void> {
  const isWrite = req.method === 'PUT';
  try {
    if (req.method !== 'GET' && !isWrite) throw new HttpRefusal(405, 'no-such-endpoint', 'Use GET or PUT /clipboard.');
    const session = await controlSession(req, options, 'Clipboard transfers');
    const { policy } = options;
    const clipboard = options.clipboardOf(session.desktop);
    const allowed = policy === 'both' || policy === (isWrite ? 'to-desktop' : 'to-client');
    if (!allowed) throw new HttpRefusal(403, 'clipboard-off', `--clipboard ${policy}: ${isWrite ? 'browser to desktop' : 'desktop to browser'} is off.`);
    if (!clipboard) throw new HttpRefusal(404, 'not-available', 'This source has no clipboard: only a desktop has one.');
    if (!session.controls) throw new HttpRefusal(403, 'not-in-control', 'Only the peer in control shares the clipboard; ask for control first.');
    if (isWrite) await write(req, res, clipboard);
    else await read(res, clipboard);
  } catch (err) {
    sendFailure(req, res, err, (e) => (e instanceof ClipboardError ? new HttpRefusal(STATUS[e.code], e.code, e.message) : null));
  }
}
