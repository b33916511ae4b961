import { z } from 'zod';
import { ClientEnvelopeSchema } from './envelope.js';

/** Absurd coordinates are refused here; input clamps the rest to the screen before X11 sees them (docs/architecture.md, "Input flow"). */
const Coordinate = z.number().finite().min(-1e6).max(1e6);

/** Either `['shift','ctrl']` (the seeds) or `{shift: true, ctrl: false}`. */
export const ModifiersSchema = z.union([
  z.array(z.string().max(32)).max(16),
  z.object({
    shift: z.boolean().optional(),
    ctrl: z.boolean().optional(),
    alt: z.boolean().optional(),
    meta: z.boolean().optional(),
  }),
]);
export type Modifiers = z.infer<typeof ModifiersSchema>;

export const MOUSE_BUTTONS = ['left', 'middle', 'right', 'back', 'forward'] as const;
export type MouseButton = (typeof MOUSE_BUTTONS)[number];

const StringList = z.array(z.string().max(256)).max(64);

export const HelloDataSchema = z.object({
  client_info: z.record(z.string(), z.unknown()).optional(),
  capabilities: StringList.optional(),
  supported_protocols: StringList.optional(),
  /** Take-over: both from the older connection's `welcome`. */
  session_id: z.string().max(128).optional(),
  resume_token: z.string().max(256).optional(),
});

export const RequestOfferDataSchema = z.object({
  constraints: z.object({ video: z.boolean().optional(), audio: z.boolean().optional() }).optional(),
  codec_preferences: StringList.optional(),
});

export const SessionDescriptionSchema = z.object({
  type: z.string().max(16),
  sdp: z.string().max(1_000_000),
});

export const AnswerDataSchema = z.object({
  sdp: SessionDescriptionSchema.extend({ type: z.literal('answer') }),
});

export const IceCandidateSchema = z.object({
  candidate: z.string().max(4096),
  sdpMid: z.string().max(64).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(64).nullable().optional(),
  usernameFragment: z.string().max(256).nullable().optional(),
});
export type IceCandidate = z.infer<typeof IceCandidateSchema>;

export const IceCandidateDataSchema = z.object({ candidate: IceCandidateSchema });

export const PingDataSchema = z.object({
  client_state: z.string().max(64).optional(),
  sequence: z.union([z.number().finite(), z.string().max(64)]).optional(),
});

export const STATS_SECTIONS = ['webrtc', 'system', 'network'] as const;
export type StatsSection = (typeof STATS_SECTIONS)[number];
export const GetStatsDataSchema = z.object({ stats_type: StringList.optional() });

/** `button`, `action` and `modifiers` of a move are ignored: the JS seed sends `action:"down"` on every move. */
export const MouseMoveDataSchema = z.object({ x: Coordinate, y: Coordinate });

export const MouseClickDataSchema = z.object({
  x: Coordinate,
  y: Coordinate,
  button: z.enum(MOUSE_BUTTONS).optional(),
  action: z.enum(['down', 'up', 'click']).optional(),
  modifiers: ModifiersSchema.optional(),
});

export const KeyPressDataSchema = z
  .object({
    key: z.string().min(1).max(32).optional(),
    key_code: z.number().int().min(0).max(0xffff).optional(),
    code: z.string().max(32).optional(),
    action: z.enum(['down', 'up']).optional(),
    modifiers: ModifiersSchema.optional(),
    repeat: z.boolean().optional(),
  })
  .refine((d) => d.key !== undefined || d.key_code !== undefined, {
    message: 'needs `key` or `key_code`',
    path: ['key'],
  });

/** Extension: scroll by wheel notches (positive dy = down, positive dx = right), at an optional position. */
export const MouseWheelDataSchema = z.object({
  dx: z.number().finite().min(-100).max(100).optional(),
  dy: z.number().finite().min(-100).max(100).optional(),
  x: Coordinate.optional(),
  y: Coordinate.optional(),
});

/** Extension: ask for or give up input control (see docs/protocol.md). */
export const ControlRequestDataSchema = z.object({});

/** Extension: the peer in control gives control to another session (docs/protocol.md, "Extensions"). */
export const HandOverControlDataSchema = z.object({ session_id: z.string().min(1).max(128) });

/** Extension: the peer in control asks for a short-lived view-only token to share (auth on). */
export const CreateShareLinkDataSchema = z.object({});

/** Extension: the controller's viewer size in device pixels; the virtual desktop takes it (`--resize controller`). */
export const ResizeScreenDataSchema = z.object({
  width: z.number().int().min(16).max(16384),
  height: z.number().int().min(16).max(16384),
});

/** Data schema of every message type a client may send. `data` may be absent where every field is optional. */
export const CLIENT_MESSAGE_DATA = {
  hello: HelloDataSchema,
  'request-offer': RequestOfferDataSchema,
  answer: AnswerDataSchema,
  'ice-candidate': IceCandidateDataSchema,
  ping: PingDataSchema,
  'get-stats': GetStatsDataSchema,
  'mouse-move': MouseMoveDataSchema,
  'mouse-click': MouseClickDataSchema,
  'key-press': KeyPressDataSchema,
  'mouse-wheel': MouseWheelDataSchema,
  'request-control': ControlRequestDataSchema,
  'release-control': ControlRequestDataSchema,
  'hand-over-control': HandOverControlDataSchema,
  'create-share-link': CreateShareLinkDataSchema,
  'resize-screen': ResizeScreenDataSchema,
} as const;

export type ClientMessageType = keyof typeof CLIENT_MESSAGE_DATA;
export const CLIENT_MESSAGE_TYPES = Object.keys(CLIENT_MESSAGE_DATA) as ClientMessageType[];
export type ClientMessageData<T extends ClientMessageType> = z.infer<(typeof CLIENT_MESSAGE_DATA)[T]>;

export type ClientEnvelope = z.infer<typeof ClientEnvelopeSchema>;

/** A validated client message, discriminated by `type`. */
export type ClientMessage = {
  [T in ClientMessageType]: Omit<ClientEnvelope, 'type'> & { type: T; data: ClientMessageData<T> };
}[ClientMessageType];

export type ClientMessageOf<T extends ClientMessageType> = Extract<ClientMessage, { type: T }>;

/** Input messages: they share a rate budget and the control check. */
export const INPUT_MESSAGE_TYPES: ReadonlySet<ClientMessageType> = new Set([
  'mouse-move',
  'mouse-click',
  'key-press',
  'mouse-wheel',
]);
