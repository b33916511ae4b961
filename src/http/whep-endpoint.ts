import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Gauge } from 'prom-client';
import { AuthError, type Principal } from '../auth/authenticator.js';
import { originAllowed } from '../auth/request-credentials.js';
import { withTurnCredentials, type TurnRestOptions } from '../auth/turn-credentials.js';
import type { Logger } from '../log.js';
import { limitCounter, registry } from '../metrics.js';
import { MediaError, type AnsweringViewer, type MediaService } from '../media/types.js';
import type { IceServer } from '../protocol/index.js';
import { readSdpFragment } from './whep-sdpfrag.js';

/** An SDP offer is a few kB; this bounds what a client can make the server buffer. */
const MAX_BODY_BYTES = 64 * 1024;
const ENDPOINT = '/whep';
const RESOURCE_PREFIX = '/whep/resource/';

/** Every endpoint of this process (one per HTTP server), read when /metrics is scraped. */
const endpoints = new Set<WhepEndpoint>();
new Gauge({
  name: 'streamgate_whep_viewers',
  help: 'Open WHEP sessions (docs/protocol.md, "WHEP"); also counted in streamgate_media_viewers',
  registers: [registry],
  collect() {
    this.set([...endpoints].reduce((sum, endpoint) => sum + endpoint.count, 0));
  },
});

export interface WhepOptions {
  media: MediaService;
  iceServers: readonly IceServer[];
  /** With --turn-secret: each player's Link headers carry TURN REST credentials minted for its session. */
  turnRest?: TurnRestOptions;
  allowedOrigins: readonly string[];
  authenticate(req: IncomingMessage): Promise<Principal | AuthError>;
  log: Logger;
}

interface Resource {
  viewer: AnsweringViewer;
  etag: string;
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * WHEP (draft-ietf-wish-whep, the egress twin of WHIP, RFC 9725): `POST /whep` with an SDP offer creates a
 * viewer and answers 201 with the SDP answer and a resource URL; `PATCH` there trickles candidates, `DELETE`
 * ends it. Same credentials as /ws; viewers are receive-only and never get input (docs/protocol.md, "WHEP").
 */
export class WhepEndpoint {
  private readonly resources = new Map<string, Resource>();

  constructor(private readonly options: WhepOptions) {
    endpoints.add(this);
  }

  get count(): number {
    return this.resources.size;
  }

  /** Handles the request when its path is WHEP's; false leaves it to the next route. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const id = path.startsWith(RESOURCE_PREFIX) ? path.slice(RESOURCE_PREFIX.length) : undefined;
    if (path !== ENDPOINT && id === undefined) return false;
    this.corsHeaders(req, res);
    try {
      if (req.method === 'OPTIONS') this.describe(res, id);
      else if (id === undefined) await this.post(req, res);
      else await this.onResource(req, res, id);
    } catch (err) {
      if (!(err instanceof HttpProblem)) throw err;
      // The body may be unread (refused before reading): the connection cannot be reused for the next request.
      if (!req.complete) res.setHeader('connection', 'close');
      res.writeHead(err.status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...err.headers });
      res.end(`${err.message}\n`);
    }
    return true;
  }

  /** Ends every session (server shutdown); the media service's stop() would too. */
  closeAll(): void {
    for (const { viewer } of [...this.resources.values()]) viewer.close();
    endpoints.delete(this);
  }

  private describe(res: ServerResponse, id: string | undefined): void {
    const allow = id === undefined ? 'POST, OPTIONS' : 'PATCH, DELETE, OPTIONS';
    res.writeHead(204, {
      allow,
      'access-control-allow-methods': allow,
      ...(id === undefined ? { 'accept-post': 'application/sdp' } : { 'accept-patch': 'application/trickle-ice-sdpfrag' }),
    });
    res.end();
  }

  private async post(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') throw new HttpProblem(405, `${req.method} is not allowed on ${ENDPOINT}: POST an SDP offer`, { allow: 'POST, OPTIONS' });
    await this.authorize(req);
    requireContentType(req, 'application/sdp');
    const offer = await readBody(req);
    const create = this.options.media.createAnsweringViewer?.bind(this.options.media);
    if (!create) throw new HttpProblem(503, 'this server cannot serve WHEP viewers');
    const id = randomUUID();
    const viewer = create(id);
    let answer: string;
    try {
      ({ sdp: answer } = await viewer.answer(offer));
    } catch (err) {
      viewer.close();
      throw asHttpProblem(err);
    }
    const etag = `"${randomUUID()}"`;
    this.resources.set(id, { viewer, etag });
    viewer.once('closed', () => this.resources.delete(id));
    this.options.log.info({ session: id }, 'WHEP viewer created');
    res.writeHead(201, {
      'content-type': 'application/sdp',
      location: `${RESOURCE_PREFIX}${id}`,
      etag,
      'cache-control': 'no-store',
      ...(this.options.iceServers.length > 0 && {
        link: withTurnCredentials(this.options.iceServers, this.options.turnRest, id).flatMap(linkHeaders).join(', '),
      }),
    });
    res.end(answer);
  }

  private async onResource(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    if (req.method !== 'PATCH' && req.method !== 'DELETE') {
      throw new HttpProblem(405, `${req.method} is not allowed on a WHEP resource: PATCH (trickle) or DELETE`, { allow: 'PATCH, DELETE, OPTIONS' });
    }
    await this.authorize(req);
    const resource = this.resources.get(id);
    if (!resource) throw new HttpProblem(404, `no WHEP session ${id.slice(0, 64)}: it ended or never existed`);
    if (req.method === 'DELETE') {
      resource.viewer.close();
      this.options.log.info({ session: id }, 'WHEP viewer deleted');
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('WHEP session ended\n');
      return;
    }
    requireContentType(req, 'application/trickle-ice-sdpfrag');
    const ifMatch = req.headers['if-match'];
    if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== resource.etag) {
      throw new HttpProblem(412, `If-Match ${ifMatch.slice(0, 80)} does not name this session's current ETag ${resource.etag}`);
    }
    const fragment = readSdpFragment(await readBody(req));
    if (typeof fragment === 'string') throw new HttpProblem(400, `the SDP fragment is not usable: ${fragment}`);
    if (fragment.iceUfrag !== undefined && fragment.iceUfrag !== resource.viewer.iceUfrag) {
      // RFC 9725 §4.3.1: a session that trickles but cannot restart ICE answers 422 to a restart.
      throw new HttpProblem(422, 'ICE restart is not supported: end this session (DELETE) and POST a new offer');
    }
    await resource.viewer.addRemoteCandidates(fragment.candidates).catch((err: unknown) => {
      throw asHttpProblem(err);
    });
    res.writeHead(204, { etag: resource.etag });
    res.end();
  }

  private async authorize(req: IncomingMessage): Promise<void> {
    const credentials = await this.options.authenticate(req);
    if (credentials instanceof AuthError) {
      limitCounter.inc({ limit: 'unauthorized' });
      throw new HttpProblem(401, credentials.message, { 'www-authenticate': 'Bearer' });
    }
  }

  /** Players on another page (a WHEP player is often one) read these through CORS, from the origins /ws accepts. */
  private corsHeaders(req: IncomingMessage, res: ServerResponse): void {
    const origin = req.headers.origin;
    if (origin === undefined || !originAllowed(req, this.options.allowedOrigins)) return;
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('vary', 'origin');
    res.setHeader('access-control-allow-headers', 'authorization, content-type, if-match');
    res.setHeader('access-control-expose-headers', 'location, etag, link, accept-patch');
  }
}

function requireContentType(req: IncomingMessage, expected: string): void {
  const given = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (given !== expected) throw new HttpProblem(415, `Content-Type must be ${expected}, not ${given ?? 'missing'}`, { accept: expected });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpProblem(413, `the body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function asHttpProblem(err: unknown): unknown {
  if (!(err instanceof MediaError)) return err;
  const text = err.details ? `${err.message} (${err.details})` : err.message;
  switch (err.code) {
    case 'INVALID_SDP':
    case 'INVALID_MESSAGE':
      return new HttpProblem(400, text);
    case 'UNSUPPORTED_CODEC':
      return new HttpProblem(406, text);
    case 'NO_ACTIVE_SESSION':
      return new HttpProblem(404, text);
    case 'MEDIA_UNAVAILABLE':
      return new HttpProblem(503, `the source is down: ${text}`);
  }
}

/** RFC 9725 §4.6: each configured ICE server as a `Link: <url>; rel="ice-server"` with its credentials. */
function linkHeaders(server: IceServer): string[] {
  const quote = (value: string): string => `"${value.replace(/["\\]/g, '\\$&')}"`;
  const credentials = server.username !== undefined && server.credential !== undefined
    ? `; username=${quote(server.username)}; credential=${quote(server.credential)}; credential-type="password"`
    : '';
  return [server.urls].flat().map((url) => `<${url}>; rel="ice-server"${credentials}`);
}
