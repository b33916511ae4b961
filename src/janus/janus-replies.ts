import { z } from 'zod';

/**
 * What the Janus core sends over its HTTP transport, checked at the edge: replies to requests (`success`,
 * `error`, `ack`) and the events of the long poll. Fields the client does not read are left out (zod
 * strips them).
 */

const Id = z.number().int().nonnegative();

export const JsepSchema = z.object({ type: z.enum(['offer', 'answer']), sdp: z.string().min(1) });

export const PluginDataSchema = z.object({ plugin: z.string(), data: z.record(z.string(), z.unknown()) });

export const CoreErrorSchema = z.object({ code: z.number().int(), reason: z.string() });

export const JanusEventSchema = z.discriminatedUnion('janus', [
  z.object({
    janus: z.literal('event'),
    sender: Id,
    transaction: z.string().optional(),
    plugindata: PluginDataSchema,
    jsep: JsepSchema.optional(),
  }),
  z.object({ janus: z.literal('webrtcup'), sender: Id }),
  z.object({
    janus: z.literal('media'),
    sender: Id,
    type: z.enum(['audio', 'video']),
    receiving: z.boolean(),
    mid: z.string().optional(),
  }),
  z.object({
    janus: z.literal('slowlink'),
    sender: Id,
    uplink: z.boolean(),
    media: z.string().optional(),
    mid: z.string().optional(),
    lost: z.number().optional(),
  }),
  z.object({ janus: z.literal('hangup'), sender: Id, reason: z.string().optional() }),
  z.object({ janus: z.literal('detached'), sender: Id }),
  z.object({ janus: z.literal('trickle'), sender: Id }),
  // The long poll answers `keepalive` when nothing happened for 30 s.
  z.object({ janus: z.literal('keepalive') }),
  z.object({ janus: z.literal('timeout'), session_id: Id }),
  z.object({ janus: z.literal('error'), error: CoreErrorSchema }),
]);
export type JanusEvent = z.infer<typeof JanusEventSchema>;

export const JanusReplySchema = z.discriminatedUnion('janus', [
  z.object({
    janus: z.literal('success'),
    transaction: z.string(),
    data: z.object({ id: Id }).optional(),
    plugindata: PluginDataSchema.optional(),
  }),
  z.object({ janus: z.literal('error'), transaction: z.string().optional(), error: CoreErrorSchema }),
  z.object({ janus: z.literal('ack'), transaction: z.string() }),
]);
export type JanusReply = z.infer<typeof JanusReplySchema>;

