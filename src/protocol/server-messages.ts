import { z } from 'zod';
import { PeerIdSchema, ServerEnvelopeSchema } from './envelope.js';
import { ERROR_CODES } from './errors.js';
import { IceCandidateSchema, SessionDescriptionSchema } from './client-messages.js';

export const PROTOCOL_VERSION = '1.0';

export const IceServerSchema = z.object({
  urls: z.union([z.string(), z.array(z.string())]),
  username: z.string().optional(),
  credential: z.string().optional(),
});
export type IceServer = z.infer<typeof IceServerSchema>;

export const SessionConfigSchema = z.object({
  /** Milliseconds; the JS and Python seeds adopt it. */
  heartbeat_interval: z.number().int().positive(),
  ice_servers: z.array(IceServerSchema),
  max_message_size: z.number().int().positive(),
  input_enabled: z.boolean(),
  /** Milliseconds of silence after which the server closes with LIVENESS_TIMEOUT. */
  liveness_timeout: z.number().int().positive(),
  codecs: z.array(z.string()),
  source: z.string(),
});
export type SessionConfig = z.infer<typeof SessionConfigSchema>;

export const WelcomeDataSchema = z.object({
  peer_id: PeerIdSchema.optional(),
  session_id: z.string(),
  resume_token: z.string(),
  resumed: z.boolean(),
  protocol_version: z.string(),
  server_info: z.object({ name: z.string(), version: z.string() }),
  session_config: SessionConfigSchema,
});

export const OfferDataSchema = z.object({
  sdp: SessionDescriptionSchema.extend({ type: z.literal('offer') }),
  codec: z.string().optional(),
});

export const ServerIceCandidateDataSchema = z.object({ candidate: IceCandidateSchema });

export const PongDataSchema = z.object({
  /** The ping's own `timestamp`, verbatim: each seed subtracts it from its own clock in its own unit. */
  ping_timestamp: z.number().optional(),
  server_timestamp: z.number().int(),
  sequence: z.union([z.number(), z.string()]).optional(),
});

export const StatsDataSchema = z.object({
  webrtc: z.record(z.string(), z.unknown()).optional(),
  system: z.record(z.string(), z.unknown()).optional(),
  network: z.record(z.string(), z.unknown()).optional(),
});

/** Extension: who holds input control now. Sent to every peer when it changes. */
export const ControlStateDataSchema = z.object({
  input_enabled: z.boolean(),
  controller_session_id: z.string().nullable(),
});

/** Extension (capability `clipboard`): the desktop's CLIPBOARD changed; its content is at GET /clipboard. */
export const ClipboardNoticeDataSchema = z.object({
  selection: z.literal('clipboard'),
});

/** Extension (capability `cursor`): the desktop's cursor changed; `png` (base64) only the first time a client gets this serial. */
export const CursorDataSchema = z.object({
  serial: z.number().int().nonnegative(),
  width: z.number().int().nonnegative(),
  height: z.number().int().nonnegative(),
  xhot: z.number().int().nonnegative(),
  yhot: z.number().int().nonnegative(),
  png: z.string().optional(),
  /** The video this client watches shows the pointer too (absent: it does, as before this field). */
  in_picture: z.boolean().optional(),
});

/** Extension (capability `cursor`): where the desktop's pointer is, in video pixels; sent to peers not in control. */
export const PointerDataSchema = z.object({
  x: z.number().int(),
  y: z.number().int(),
});

/** Extension (capability `participants`): everyone connected now, and who holds control. */
export const ParticipantsDataSchema = z.object({
  participants: z.array(
    z.object({
      session_id: z.string(),
      peer_id: PeerIdSchema.optional(),
      role: z.enum(['control', 'view']),
      in_control: z.boolean(),
    }),
  ),
  controller_session_id: z.string().nullable(),
});

/** Extension (capability `participants`), to the peer in control: another peer asked for control. */
export const ControlRequestedDataSchema = z.object({
  session_id: z.string(),
  peer_id: PeerIdSchema.optional(),
});

/** Extension: the answer to `create-share-link`: a view-only token and the viewer path that carries it. */
export const ShareLinkDataSchema = z.object({
  token: z.string(),
  path: z.string(),
  /** Epoch milliseconds. */
  expires_at: z.number().int(),
});

/** Extension (capability `resize`): the desktop's size, after the welcome and on every change. */
export const ScreenDataSchema = z.object({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** The peer in control may send `resize-screen` (`--resize controller`). */
  resizable: z.boolean(),
});

export const ErrorBodySchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  /** A string, always: the Go seed's `SignalingError` drops the whole message otherwise. */
  details: z.string().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export const SERVER_MESSAGE_DATA = {
  welcome: WelcomeDataSchema,
  offer: OfferDataSchema,
  'ice-candidate': ServerIceCandidateDataSchema,
  pong: PongDataSchema,
  stats: StatsDataSchema,
  control: ControlStateDataSchema,
  clipboard: ClipboardNoticeDataSchema,
  cursor: CursorDataSchema,
  pointer: PointerDataSchema,
  participants: ParticipantsDataSchema,
  'control-requested': ControlRequestedDataSchema,
  'share-link': ShareLinkDataSchema,
  screen: ScreenDataSchema,
} as const;

export type ServerDataMessageType = keyof typeof SERVER_MESSAGE_DATA;
export type ServerMessageType = ServerDataMessageType | 'error';
export type ServerEnvelope = z.infer<typeof ServerEnvelopeSchema>;
export type ServerMessageData<T extends ServerDataMessageType> = z.infer<(typeof SERVER_MESSAGE_DATA)[T]>;

export type ServerMessage =
  | { [T in ServerDataMessageType]: ServerEnvelope & { type: T; data: ServerMessageData<T> } }[ServerDataMessageType]
  | (ServerEnvelope & { type: 'error'; error: ErrorBody });

/** Full schema of one server message, for the JSON Schema export and for clients that validate what they get. */
export const ServerMessageSchema = z.discriminatedUnion('type', [
  ...(Object.entries(SERVER_MESSAGE_DATA) as [ServerDataMessageType, z.ZodType][]).map(([type, data]) =>
    ServerEnvelopeSchema.extend({ type: z.literal(type), data }),
  ),
  ServerEnvelopeSchema.extend({ type: z.literal('error'), error: ErrorBodySchema }),
] as unknown as [z.ZodObject, ...z.ZodObject[]]);
