import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { AuthError, type Principal } from '../auth/authenticator.js';
import { requestToken } from '../auth/request-credentials.js';
import { ClusterError, type ClusterErrorKind } from '../cluster/cluster-error.js';
import { DesktopNameSchema, type NodeRecord } from '../cluster/records.js';
import { isRelayed, RELAY_HEADERS } from '../cluster/relay-headers.js';
import { Resolution } from '../config/options.js';
import type { ClusterNode } from '../desktops/cluster-node.js';
import { grantFor, mayOpen } from '../desktops/desktop-grant.js';
import type { DesktopManager } from '../desktops/desktop-manager.js';
import type { Logger } from '../log.js';
import { readJsonBody, sendJson } from './json-response.js';

const MAX_BODY_BYTES = 16 * 1024;
/** How long the node a request is forwarded to has to answer: starting a desktop (Xvfb, app) takes seconds. */
const FORWARD_TIMEOUT_MS = 30_000;

const CreateRequestSchema = z.strictObject({
  name: DesktopNameSchema,
  app: z.string().min(1).max(4096).optional(),
  resolution: Resolution.optional(),
});

const STATUS: Record<ClusterErrorKind, number> = { 'invalid-name': 400, 'not-found': 404, 'desktop-taken': 409, 'no-room': 503, 'registry-unavailable': 503 };

export interface DesktopsApiOptions {
  manager: DesktopManager;
  /** Null until (or unless) the node has joined a cluster. */
  cluster: () => ClusterNode | null;
  log: Logger;
}

/** One entry of `GET /api/desktops`. */
interface Listed {
  name: string;
  node: string | null;
  /** Path of its signaling endpoint on any node. */
  ws: string;
  viewers?: number;
  idleSince?: number | null;
  app?: string;
  resolution?: string;
  onDemand?: boolean;
}

/**
 * The desktops API: `GET /api/desktops` lists the desktops the caller may open (the whole cluster's);
 * `POST` creates one on the least-loaded node (forwarded there with the caller's credentials); `DELETE
 * /api/desktops/NAME` stops one wherever it runs. Creating and deleting need the control role for that name.
 */
export function desktopsApi(options: DesktopsApiOptions): (req: IncomingMessage, res: ServerResponse, path: string, credentials: Principal) => Promise<void> {
  const { manager, log } = options;

  const list = (credentials: Principal): Listed[] => {
    const cluster = options.cluster();
    const node = cluster?.nodeId ?? null;
    const entries: Listed[] = manager.desktops.list().map((d) => {
      const { name, viewers, idleSince, app, resolution, onDemand } = d.summary();
      return { name, node, ws: `/ws/${name}`, viewers, idleSince, app, resolution, onDemand };
    });
    const local = new Set(entries.map((e) => e.name));
    for (const remote of cluster?.registry.view.desktops ?? []) {
      if (!local.has(remote.name)) entries.push({ name: remote.name, node: remote.owner, ws: `/ws/${remote.name}` });
    }
    return entries.filter((e) => mayOpen(credentials, e.name));
  };

  const mayControl = (credentials: Principal, name: string): boolean => {
    const grant = grantFor(credentials, name);
    return !(grant instanceof AuthError) && grant.role === 'control';
  };

  /** Sends the request on to another node with the caller's token, marked so that node acts itself. */
  const forward = async (req: IncomingMessage, res: ServerResponse, node: NodeRecord, path: string, body?: unknown): Promise<void> => {
    const token = requestToken(req);
    const headers: Record<string, string> = { [RELAY_HEADERS.node]: options.cluster()!.nodeId, ...(token ? { authorization: `Bearer ${token}` } : {}) };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      const answer = await fetch(`${node.httpUrl}${path}`, { method: req.method!, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS) });
      const text = await answer.text();
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json', 'cache-control': 'no-store' });
      res.end(text);
    } catch (err) {
      log.warn({ node: node.id, path, err: (err as Error).message }, 'could not forward a desktops request');
      sendJson(res, 502, { error: 'BAD_GATEWAY', message: `Node "${node.id}" did not answer: ${(err as Error).message}.` });
    }
  };

  const create = async (req: IncomingMessage, res: ServerResponse, credentials: Principal): Promise<void> => {
    let body: z.output<typeof CreateRequestSchema>;
    try {
      const parsed = CreateRequestSchema.safeParse(await readJsonBody(req, MAX_BODY_BYTES));
      if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
      body = parsed.data;
    } catch (err) {
      sendJson(res, 400, { error: 'INVALID_REQUEST', message: `Cannot create a desktop: ${(err as Error).message}.` });
      return;
    }
    if (!mayControl(credentials, body.name)) {
      sendJson(res, 403, { error: 'FORBIDDEN', message: `Creating desktop "${body.name}" needs the control role for it.` });
      return;
    }
    const cluster = options.cluster();
    // A request another node forwarded here was placed already: it is started here or refused.
    if (cluster && !isRelayed(req)) {
      const target = await cluster.registry.chooseNode();
      if (!target) throw new ClusterError('no-room', 'Every node of the cluster runs its most desktops (--max-desktops).');
      if (target.id !== cluster.nodeId) {
        await forward(req, res, target, '/api/desktops', serialisable(body));
        return;
      }
    }
    await manager.create(body);
    sendJson(res, 201, { name: body.name, node: cluster?.nodeId ?? null, ws: `/ws/${body.name}` });
  };

  const remove = async (req: IncomingMessage, res: ServerResponse, credentials: Principal, name: string): Promise<void> => {
    if (!mayControl(credentials, name)) {
      sendJson(res, 403, { error: 'FORBIDDEN', message: `Deleting desktop "${name}" needs the control role for it.` });
      return;
    }
    const cluster = options.cluster();
    if (!manager.desktops.get(name) && cluster && !isRelayed(req)) {
      const owner = await cluster.locate(DesktopNameSchema.parse(name));
      if (owner && owner.id !== cluster.nodeId) {
        await forward(req, res, owner, `/api/desktops/${encodeURIComponent(name)}`);
        return;
      }
    }
    await manager.delete(name);
    res.writeHead(204, { 'cache-control': 'no-store' }).end();
  };

  return async (req, res, path, credentials) => {
    try {
      if (path === '/api/desktops' && req.method === 'GET') {
        sendJson(res, 200, list(credentials));
        return;
      }
      if (path === '/api/desktops' && req.method === 'POST') {
        await create(req, res, credentials);
        return;
      }
      const name = decodeURIComponent(path.slice('/api/desktops/'.length));
      if (path.startsWith('/api/desktops/') && req.method === 'DELETE' && DesktopNameSchema.safeParse(name).success) {
        await remove(req, res, credentials, name);
        return;
      }
      sendJson(res, 405, { error: 'METHOD_NOT_ALLOWED', message: `${req.method} ${path}: use GET or POST /api/desktops, or DELETE /api/desktops/NAME.` });
    } catch (err) {
      if (!(err instanceof ClusterError)) throw err;
      sendJson(res, STATUS[err.kind], { error: err.kind, message: err.message });
    }
  };
}

/** The create request as sent on: the resolution back in its WIDTHxHEIGHT form. */
function serialisable(body: z.output<typeof CreateRequestSchema>): Record<string, unknown> {
  return { name: body.name, ...(body.app ? { app: body.app } : {}), ...(body.resolution ? { resolution: `${body.resolution.width}x${body.resolution.height}` } : {}) };
}
