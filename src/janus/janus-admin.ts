import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { JanusError } from './janus-error.js';

/**
 * Janus's admin API, for the figures its client API does not give: what Janus sent to one viewer. It is a
 * separate endpoint (`admin_http` in janus.transport.http.jcfg) guarded by `admin_secret`; keep it on loopback.
 */

const Count = z.number().int().nonnegative();

const MediumSchema = z.object({
  type: z.enum(['audio', 'video', 'data']),
  codecs: z.object({ pt: z.number().int().optional(), codec: z.string().optional() }).optional(),
  rtcp: z
    .object({
      main: z
        .object({
          rtt: z.number().optional(),
          'lost-by-remote': z.number().optional(),
          'jitter-remote': z.number().optional(),
          'out-link-quality': z.number().optional(),
        })
        .optional(),
    })
    .optional(),
  stats: z.object({
    out: z.object({ packets: Count, bytes: Count, bytes_lastsec: Count.optional(), nacks: Count.optional() }),
  }),
});

const HandleInfoSchema = z.object({
  janus: z.literal('success'),
  info: z.object({
    plugin: z.string().optional(),
    // Absent until the handle has a PeerConnection.
    webrtc: z.object({ media: z.record(z.string(), MediumSchema) }).optional(),
  }),
});

const AdminErrorSchema = z.object({ janus: z.literal('error'), error: z.object({ code: z.number().int(), reason: z.string() }) });

/** What Janus sent one viewer on one media stream (mid). */
export interface SentMedia {
  mid: string;
  type: 'audio' | 'video' | 'data';
  codec?: string;
  packets: number;
  bytes: number;
  /** Over the last second. */
  bitrateKbps?: number;
  /** Retransmission requests the viewer sent. */
  nacks?: number;
  /** Packets the viewer reported lost (its receiver reports). */
  lost?: number;
  /** Round-trip time from the viewer's receiver reports, ms. */
  rttMs?: number;
  /** Janus's 0–100 estimate of the link to the viewer. */
  linkQuality?: number;
}

export interface JanusAdminOptions {
  /** The admin endpoint, e.g. `http://127.0.0.1:7088/admin`. */
  url: string;
  adminSecret: string;
}

export class JanusAdmin {
  constructor(private readonly options: JanusAdminOptions) {}

  /** Per mid, what Janus sent on the handle's PeerConnection; empty before it has one. */
  async sentMedia(sessionId: number, handleId: number): Promise<SentMedia[]> {
    const what = `admin handle_info ${sessionId}/${handleId}`;
    let raw: unknown;
    try {
      const response = await fetch(`${this.options.url}/${sessionId}/${handleId}`, {
        method: 'POST',
        body: JSON.stringify({ janus: 'handle_info', transaction: randomUUID(), admin_secret: this.options.adminSecret }),
        signal: AbortSignal.timeout(10_000),
      });
      raw = await response.json();
    } catch (err) {
      throw new JanusError('transport', 0, `no answer from ${this.options.url}: ${err instanceof Error ? err.message : String(err)}`, what);
    }
    const refused = AdminErrorSchema.safeParse(raw);
    if (refused.success) throw new JanusError('core', refused.data.error.code, refused.data.error.reason, what);
    const parsed = HandleInfoSchema.safeParse(raw);
    if (!parsed.success) throw new JanusError('transport', 0, `unexpected reply ${JSON.stringify(raw).slice(0, 200)}`, what);
    return Object.entries(parsed.data.info.webrtc?.media ?? {}).map(([mid, medium]) => sentMedia(mid, medium));
  }
}

function sentMedia(mid: string, medium: z.infer<typeof MediumSchema>): SentMedia {
  const { out } = medium.stats;
  const report = medium.rtcp?.main;
  return {
    mid,
    type: medium.type,
    ...(medium.codecs?.codec ? { codec: medium.codecs.codec } : {}),
    packets: out.packets,
    bytes: out.bytes,
    ...(out.bytes_lastsec === undefined ? {} : { bitrateKbps: (out.bytes_lastsec * 8) / 1000 }),
    ...(out.nacks === undefined ? {} : { nacks: out.nacks }),
    ...(report?.['lost-by-remote'] === undefined ? {} : { lost: report['lost-by-remote'] }),
    ...(report?.rtt === undefined ? {} : { rttMs: report.rtt }),
    ...(report?.['out-link-quality'] === undefined ? {} : { linkQuality: report['out-link-quality'] }),
  };
}
