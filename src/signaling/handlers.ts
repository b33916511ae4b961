import { PARTICIPANTS_CAPABILITY, PRESS_RELEASE_CAPABILITY, PROTOCOL_VERSION, STATS_SECTIONS, type ClientMessage, type ClientMessageOf, type ServerMessageData, type StatsSection } from '../protocol/index.js';
import { MediaError, type MediaViewer, type OfferRequest } from '../media/types.js';
import type { PeerInput } from '../input/types.js';
import type { Connection } from './connection.js';
import { ProtocolError } from './protocol-error.js';
import type { Session } from './session.js';
import type { SignalingContext } from './signaling-context.js';
import { SERVER_VERSION } from '../version.js';
import { limitCounter } from '../metrics.js';
import { withTurnCredentials } from '../auth/turn-credentials.js';

const DEFAULT_CODECS = ['H264', 'VP8'];

function requireSession(ctx: SignalingContext, connection: Connection): Session {
  const session = ctx.sessions.of(connection);
  if (!session) {
    throw new ProtocolError('NOT_REGISTERED', 'Send "hello" first; this connection has no session yet.', 'hello');
  }
  return session;
}

/** Media failures carry their protocol code; anything else is a bug and surfaces as INTERNAL_ERROR. */
async function mediaCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof MediaError) throw new ProtocolError(err.code, err.message, err.details);
    throw err;
  }
}

export function inputAllowed(ctx: SignalingContext, session: Session): boolean {
  return ctx.input !== null && session.connection.principal.role === 'control' && ctx.control.canInput(session.id);
}

function sendWelcome(ctx: SignalingContext, connection: Connection, session: Session, resumed: boolean, replyTo?: string): void {
  const { config } = ctx;
  session.welcomed = true;
  connection.send(
    'welcome',
    {
      ...(session.peerId === undefined ? {} : { peer_id: session.peerId }),
      session_id: session.id,
      resume_token: session.resumeToken,
      resumed,
      protocol_version: PROTOCOL_VERSION,
      server_info: { name: 'streamgate', version: SERVER_VERSION },
      session_config: {
        heartbeat_interval: config.heartbeatInterval,
        // Fresh TURN REST credentials on every welcome (a resume too), so a reconnecting client never holds stale ones.
        ice_servers: withTurnCredentials(config.iceServers, config.turnRest, session.id),
        max_message_size: config.maxMessageSize,
        input_enabled: inputAllowed(ctx, session),
        liveness_timeout: config.livenessTimeout,
        codecs: [...(ctx.media?.codecs ?? [])],
        source: ctx.sourceName,
      },
    },
    replyTo,
  );
  for (const hook of ctx.welcomeHooks) hook(session);
}

function announcesPressRelease(message: ClientMessageOf<'hello'>): boolean {
  return message.data.capabilities?.includes(PRESS_RELEASE_CAPABILITY) ?? false;
}

function onHello(ctx: SignalingContext, connection: Connection, message: ClientMessageOf<'hello'>): void {
  connection.peerId = message.peer_id;
  const current = ctx.sessions.of(connection);
  if (current) {
    current.peerId = message.peer_id;
    sendWelcome(ctx, connection, current, false, message.message_id);
    return;
  }
  const { session_id: sessionId, resume_token: token } = message.data;
  const resumed = sessionId && token ? ctx.sessions.resume(connection, sessionId, token, message.peer_id) : undefined;
  const session = resumed ?? ctx.sessions.open(connection, message.peer_id);
  session.pressRelease = announcesPressRelease(message);
  session.capabilities = new Set(message.data.capabilities ?? []);
  sendWelcome(ctx, connection, session, resumed !== undefined, message.message_id);
}

function attachViewer(ctx: SignalingContext, session: Session, viewer: MediaViewer): void {
  viewer.on('candidate', (candidate) => session.connection.send('ice-candidate', { candidate }));
  viewer.on('state', (state) => session.connection.log.debug({ state }, 'peer connection state'));
  viewer.on('media-down', (reason) =>
    session.connection.sendError('MEDIA_UNAVAILABLE', 'The media pipeline stopped; it is being restarted.', reason),
  );
  viewer.on('media-up', () => {
    const request = session.lastOffer;
    if (request) void renegotiate(ctx, session, request);
  });
  viewer.on('datachannel-message', (text) => session.connection.dispatchChannelText(text));
  for (const hook of ctx.viewerHooks) hook(session, viewer);
}

async function sendOffer(ctx: SignalingContext, session: Session, request: OfferRequest, replyTo?: string): Promise<void> {
  const media = ctx.media;
  if (!media) throw new ProtocolError('MEDIA_UNAVAILABLE', 'This server has no media source running.', 'source');
  // Queued behind a slow step, the request may run after its session was freed: nobody would close the viewer.
  if (session.disposed) return;
  if (!session.viewer) {
    // Under `--input first` a control peer may be given input later: only one that never can is view-only.
    const viewOnly = ctx.input === null || session.connection.principal.role !== 'control';
    session.viewer = media.createViewer(session.id, { viewOnly });
    attachViewer(ctx, session, session.viewer);
  }
  const viewer = session.viewer;
  if (ctx.negotiations.activeCount >= ctx.config.maxNegotiations) limitCounter.inc({ limit: 'negotiations_queued' });
  const offer = await ctx.negotiations(() => mediaCall(() => viewer.createOffer(request)));
  if (session.disposed) return;
  session.connection.send('offer', { sdp: { type: 'offer', sdp: offer.sdp }, ...(offer.codec ? { codec: offer.codec } : {}) }, replyTo);
}

function renegotiate(ctx: SignalingContext, session: Session, request: OfferRequest): Promise<void> {
  return session.negotiation
    .push(() => sendOffer(ctx, session, request))
    .catch((err: unknown) => {
      if (err instanceof ProtocolError) session.connection.sendError(err.code, err.message, err.details);
      else session.connection.log.error({ err }, 'renegotiation failed');
    });
}

async function onRequestOffer(ctx: SignalingContext, connection: Connection, message: ClientMessageOf<'request-offer'>): Promise<void> {
  const session = requireSession(ctx, connection);
  const { constraints, codec_preferences: prefs } = message.data;
  const request: OfferRequest = {
    video: constraints?.video ?? true,
    audio: constraints?.audio ?? true,
    codecPreferences: prefs && prefs.length > 0 ? prefs : DEFAULT_CODECS,
  };
  if (!request.video && !request.audio) {
    throw new ProtocolError('INVALID_MESSAGE', 'The constraints ask for neither video nor audio.', 'data.constraints');
  }
  session.lastOffer = request;
  await session.negotiation.push(() => sendOffer(ctx, session, request, message.message_id));
}

function requireViewer(session: Session): MediaViewer {
  if (!session.viewer) {
    throw new ProtocolError('NO_ACTIVE_SESSION', 'There is no offer outstanding; send "request-offer" first.', 'request-offer');
  }
  return session.viewer;
}

async function onAnswer(ctx: SignalingContext, connection: Connection, message: ClientMessageOf<'answer'>): Promise<void> {
  const session = requireSession(ctx, connection);
  const viewer = requireViewer(session);
  await session.negotiation.push(() => mediaCall(() => viewer.applyAnswer(message.data.sdp.sdp)));
}

async function onIceCandidate(ctx: SignalingContext, connection: Connection, message: ClientMessageOf<'ice-candidate'>): Promise<void> {
  const session = requireSession(ctx, connection);
  const viewer = requireViewer(session);
  // In order with answers and offers: a candidate must never reach an offer newer than the one it answers.
  await session.negotiation.push(() => mediaCall(() => viewer.addRemoteCandidate(message.data.candidate)));
}

function onPing(connection: Connection, message: ClientMessageOf<'ping'>): void {
  // Filled in place rather than with conditional spreads: the hottest reply, and each spread is an object.
  const pong: ServerMessageData<'pong'> = { server_timestamp: Date.now() };
  if (message.timestamp !== undefined) pong.ping_timestamp = message.timestamp;
  if (message.data.sequence !== undefined) pong.sequence = message.data.sequence;
  connection.send('pong', pong, message.message_id, connection.peerId ?? message.peer_id);
}

async function onGetStats(ctx: SignalingContext, connection: Connection, message: ClientMessageOf<'get-stats'>): Promise<void> {
  const session = requireSession(ctx, connection);
  const asked = message.data.stats_type;
  const sections = new Set<StatsSection>(
    asked === undefined ? STATS_SECTIONS : STATS_SECTIONS.filter((s) => asked.includes(s)),
  );
  const webrtc = session.viewer ? await session.viewer.stats() : { state: 'no-peer-connection' };
  const stats: Record<string, Record<string, unknown>> = {};
  if (sections.has('webrtc')) stats.webrtc = webrtc;
  if (sections.has('system')) {
    stats.system = {
      ...ctx.system.snapshot(),
      media: ctx.media ? ctx.media.pipelineStats() : { state: 'unavailable', source: ctx.sourceName },
    };
  }
  if (sections.has('network')) {
    stats.network = {
      connections: ctx.connections.size,
      sessions: ctx.sessions.size,
      server: ctx.traffic.snapshot(),
      connection: connection.traffic.snapshot(),
      selected_candidate_pair: webrtc.selected_candidate_pair ?? null,
    };
  }
  connection.send('stats', stats, message.message_id);
}

function requireControlRole(connection: Connection): void {
  if (connection.principal.role !== 'control') {
    throw new ProtocolError('FORBIDDEN', "This peer's credentials allow viewing only.", 'role=view');
  }
}

/** The refusal for every input event to a source without input (a moving pointer sends 60 a second): built once per server. */
const noInputErrors = new WeakMap<SignalingContext, ProtocolError>();

function peerInput(ctx: SignalingContext, session: Session): PeerInput {
  if (!ctx.input) {
    let error = noInputErrors.get(ctx);
    if (!error) {
      error = new ProtocolError('FORBIDDEN', `The "${ctx.sourceName}" source takes no input.`, 'source');
      noInputErrors.set(ctx, error);
    }
    throw error;
  }
  requireControlRole(session.connection);
  if (!ctx.control.canInput(session.id)) {
    const controller = ctx.control.controller;
    throw new ProtocolError(
      'FORBIDDEN',
      'This peer does not hold input control.',
      ctx.control.policy === 'none' ? 'input=none' : `controller=${controller ?? 'nobody'}`,
    );
  }
  session.input ??= ctx.input.forPeer(session.id);
  return session.input;
}

function onMouseClick(ctx: SignalingContext, session: Session, message: ClientMessageOf<'mouse-click'>): void {
  const input = peerInput(ctx, session);
  const { action } = message.data;
  // Seed semantics unless the client asked for press/release: its every click says "down" and never "up".
  if (!session.pressRelease && action !== undefined && action !== 'click') {
    if (action === 'down') input.mouseClick({ ...message.data, action: 'click' });
    return;
  }
  input.mouseClick(message.data);
}

/** A refused request for control is shown to the controller, when it announced `participants`, so it may hand over. */
function tellController(ctx: SignalingContext, requester: Session): void {
  for (const session of ctx.sessions.all()) {
    if (session.id !== ctx.control.controller || !session.capabilities.has(PARTICIPANTS_CAPABILITY) || ctx.sessions.of(session.connection) !== session) continue;
    session.connection.send('control-requested', { session_id: requester.id, ...(requester.peerId === undefined ? {} : { peer_id: requester.peerId }) });
  }
}

function onHandOver(ctx: SignalingContext, connection: Connection, message: ClientMessageOf<'hand-over-control'>): void {
  const session = requireSession(ctx, connection);
  const target = message.data.session_id;
  if (ctx.control.controller !== session.id) {
    throw new ProtocolError('FORBIDDEN', 'Only the peer in control can hand it over.', `controller=${ctx.control.controller ?? 'nobody'}`);
  }
  const receiver = [...ctx.sessions.all()].find((s) => s.id === target && ctx.sessions.of(s.connection) === s);
  if (!receiver || receiver.connection.principal.role !== 'control' || !ctx.control.handOver(session.id, target)) {
    throw new ProtocolError('INVALID_MESSAGE', 'Control can go only to a connected peer with the control role.', 'data.session_id');
  }
  connection.send('control', { input_enabled: inputAllowed(ctx, session), controller_session_id: ctx.control.controller }, message.message_id);
}

async function onCreateShareLink(ctx: SignalingContext, connection: Connection, message: ClientMessageOf<'create-share-link'>): Promise<void> {
  const session = requireSession(ctx, connection);
  requireControlRole(connection);
  if (!ctx.control.canInput(session.id)) throw new ProtocolError('FORBIDDEN', 'Only the peer in control can share a view-only link.', `controller=${ctx.control.controller ?? 'nobody'}`);
  if (!ctx.shareLink) {
    throw new ProtocolError('FORBIDDEN', 'Share links need auth with a shared token or --jwt-secret: without auth anyone may open the viewer, and a --jwt-public-key server cannot sign.', 'share-link');
  }
  const { token, path, expiresAt } = await ctx.shareLink();
  connection.send('share-link', { token, path, expires_at: expiresAt }, message.message_id);
}

async function onResizeScreen(ctx: SignalingContext, connection: Connection, message: ClientMessageOf<'resize-screen'>): Promise<void> {
  const session = requireSession(ctx, connection);
  if (!ctx.screen?.resizable) throw new ProtocolError('FORBIDDEN', 'This server does not resize its desktop to viewers (--resize off, or not a virtual desktop).', 'resize=off');
  if (!inputAllowed(ctx, session)) throw new ProtocolError('FORBIDDEN', 'Only the peer in control sizes the desktop.', `controller=${ctx.control.controller ?? 'nobody'}`);
  const { width, height } = message.data;
  try {
    await ctx.screen.resize(width, height);
  } catch (err) {
    session.connection.log.warn({ err, width, height }, 'resize failed');
    throw new ProtocolError('INTERNAL_ERROR', 'The desktop could not be resized.', `${width}x${height}`);
  }
}

function onControl(ctx: SignalingContext, connection: Connection, message: ClientMessageOf<'request-control' | 'release-control'>): void {
  const session = requireSession(ctx, connection);
  if (message.type === 'release-control') {
    ctx.control.release(session.id);
  } else {
    requireControlRole(connection);
    if (!ctx.control.request(session.id)) {
      tellController(ctx, session);
      throw new ProtocolError('FORBIDDEN', 'Input control is held by another peer.', `controller=${ctx.control.controller ?? 'nobody'}`);
    }
  }
  connection.send(
    'control',
    { input_enabled: inputAllowed(ctx, session), controller_session_id: ctx.control.controller },
    message.message_id,
  );
}

/** Routes one validated message (only `hello` and `ping` before registration). Sync handlers return nothing: no promise per ping or input event. */
export function dispatch(ctx: SignalingContext, connection: Connection, message: ClientMessage): Promise<void> | void {
  switch (message.type) {
    case 'hello':
      return onHello(ctx, connection, message);
    case 'ping':
      return onPing(connection, message);
    case 'request-offer':
      return onRequestOffer(ctx, connection, message);
    case 'answer':
      return onAnswer(ctx, connection, message);
    case 'ice-candidate':
      return onIceCandidate(ctx, connection, message);
    case 'get-stats':
      return onGetStats(ctx, connection, message);
    case 'mouse-move':
      return peerInput(ctx, requireSession(ctx, connection)).mouseMove(message.data);
    case 'mouse-click':
      return onMouseClick(ctx, requireSession(ctx, connection), message);
    case 'mouse-wheel':
      return peerInput(ctx, requireSession(ctx, connection)).mouseWheel(message.data);
    case 'key-press':
      return peerInput(ctx, requireSession(ctx, connection)).key(message.data);
    case 'request-control':
    case 'release-control':
      return onControl(ctx, connection, message);
    case 'hand-over-control':
      return onHandOver(ctx, connection, message);
    case 'create-share-link':
      return onCreateShareLink(ctx, connection, message);
    case 'resize-screen':
      return onResizeScreen(ctx, connection, message);
  }
}
