import { z } from 'zod';

/** The streaming plugin's reply data (`plugindata.data`), checked at the edge. */

const MountpointId = z.number().int().nonnegative();
const MediaType = z.enum(['audio', 'video', 'data']);

export const CreatedSchema = z.object({
  streaming: z.literal('created'),
  stream: z.object({
    id: MountpointId,
    ports: z.array(
      z.object({
        type: MediaType,
        mid: z.string(),
        port: z.number().int().optional(),
        rtcp_port: z.number().int().optional(),
      }),
    ),
  }),
});

export const ListSchema = z.object({
  streaming: z.literal('list'),
  list: z.array(
    z.object({
      id: MountpointId,
      description: z.string().optional(),
      enabled: z.boolean().optional(),
      media: z.array(z.object({ mid: z.string(), type: MediaType, age_ms: z.number().optional() })).default([]),
    }),
  ),
});
export type MountpointSummary = z.infer<typeof ListSchema>['list'][number];

export const InfoSchema = z.object({
  streaming: z.literal('info'),
  info: z.object({
    id: MountpointId,
    description: z.string().optional(),
    enabled: z.boolean().optional(),
    viewers: z.number().int().optional(),
    media: z
      .array(
        z.object({
          mid: z.string(),
          type: MediaType,
          /** Milliseconds since the mountpoint last received RTP on this stream. */
          age_ms: z.number().optional(),
          pt: z.number().int().optional(),
          codec: z.string().optional(),
          fmtp: z.string().optional(),
          port: z.number().int().optional(),
          /** Spelt so in `info`; the `created` reply says `rtcp_port`. */
          rtcpport: z.number().int().optional(),
        }),
      )
      .default([]),
  }),
});
export type MountpointInfo = z.infer<typeof InfoSchema>['info'];

export const DestroyedSchema = z.object({ streaming: z.literal('destroyed') });

/** The outcome of `watch`, `start`, `stop`…: `{streaming: "event", result: {status}}`. */
export const StatusEventSchema = z.object({
  streaming: z.literal('event'),
  result: z.object({ status: z.string() }).optional(),
});
