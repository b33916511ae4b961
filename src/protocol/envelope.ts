import { z } from 'zod';

/**
 * A client-chosen label: the JS seed sends a number, Python and Go send a string.
 * The server echoes it back in the same JSON type, so both forms are kept as they came.
 */
export const PeerIdSchema = z.union([z.string().max(256), z.number().finite()]);
export type PeerId = z.infer<typeof PeerIdSchema>;

/** Fields every client message may carry besides `type` and `data`. */
export const ClientEnvelopeSchema = z.object({
  type: z.string(),
  peer_id: PeerIdSchema.optional(),
  message_id: z.string().max(256).optional(),
  /** Milliseconds (JS, Python) or seconds (Go); never computed with, only echoed. */
  timestamp: z.number().finite().optional(),
});

/** Fields every server message carries. Timestamps are integer milliseconds: a float breaks the Go seed. */
export const ServerEnvelopeSchema = z.object({
  peer_id: PeerIdSchema.optional(),
  message_id: z.string(),
  timestamp: z.number().int(),
  reply_to: z.string().optional(),
});
