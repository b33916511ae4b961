import { z } from 'zod';

/**
 * A desktop's name: it is a path segment of `/ws/NAME` and part of a Redis key, so it is kept to
 * characters that need no escaping in either place.
 */
export const DesktopNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'a desktop name is 1 to 63 characters: a-z, 0-9, "_", "." and "-", starting with a letter or digit');
export type DesktopName = z.infer<typeof DesktopNameSchema>;

/** A node's id: part of Redis keys and of SCAN patterns, so it carries no glob characters. */
export const NodeIdSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'a node id is 1 to 128 characters: A-Z, a-z, 0-9, "_", "." and "-"');

/** What a node publishes about its load with every heartbeat; placement compares these. */
export const NodeLoadSchema = z.object({
  /** CPU in use on the host, 0 to 1 (the load average over the cores). */
  cpu: z.number().min(0),
  desktops: z.number().int().min(0),
  viewers: z.number().int().min(0),
  /** Desktops this node takes at most; a full node is never chosen for a new one. */
  maxDesktops: z.number().int().min(0),
});
export type NodeLoad = z.infer<typeof NodeLoadSchema>;

/**
 * A node as the cluster sees it. Read back from Redis, which other processes write, so it is validated
 * like any other input.
 */
export const NodeRecordSchema = z.object({
  id: NodeIdSchema,
  /** Where other nodes open `/ws/NAME` to relay to this one, e.g. `ws://10.0.0.5:8080`. */
  wsUrl: z.url({ protocol: /^wss?$/ }),
  /** Where the desktops API of this node answers, e.g. `http://10.0.0.5:8080`. */
  httpUrl: z.url({ protocol: /^https?$/ }),
  startedAt: z.number().int(),
  heartbeatAt: z.number().int(),
  load: NodeLoadSchema,
});
export type NodeRecord = z.infer<typeof NodeRecordSchema>;

/** A desktop and the node that owns it. */
export interface DesktopRecord {
  name: DesktopName;
  owner: string;
}

/**
 * Announcements on the cluster's channel. They only speed things up: a node that dies announces nothing,
 * and every node also notices it from the registry itself within the TTL.
 */
export const ClusterAnnouncementSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('node-gone'), node: z.string() }),
  z.object({ type: z.literal('desktop-gone'), desktop: z.string(), node: z.string() }),
]);
export type ClusterAnnouncement = z.infer<typeof ClusterAnnouncementSchema>;
