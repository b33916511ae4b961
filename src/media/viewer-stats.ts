import type { RTCPeerConnection, RTCRtpSender } from 'werift';
import type { CongestionFigures } from './congestion/congestion-stats.js';
import type { PipelineStats } from './stream-pipeline.js';

/** What the viewer knows about one kind it sends, beyond werift's own report. */
export interface LegFigures {
  kind: 'video' | 'audio';
  codec: string;
  sender: RTCRtpSender;
  pipeline: PipelineStats;
  /** Interarrival jitter from the browser's latest RTCP receiver report (werift's report lacks it). */
  jitterSeconds: number | null;
  firCount: number;
  /** The viewer's rate control (video only; null with adaptive bitrate off). */
  congestion?: CongestionFigures | null;
}

type Entry = Record<string, unknown> & { type: string; id: string };

/**
 * Turns a peer connection's getStats() into the `webrtc` figures of the `stats` message. Bitrates are
 * averaged over the time since the previous call, so one collector lives as long as its viewer.
 */
export class ViewerStatsCollector {
  private readonly previous = new Map<string, { at: number; bytes: number }>();

  async collect(pc: RTCPeerConnection, sessionId: string, legs: LegFigures[]): Promise<Record<string, unknown>> {
    const report = await pc.getStats();
    const entries = new Map<string, Entry>();
    for (const entry of report.values()) entries.set(entry.id, entry as unknown as Entry);
    const byType = (type: string): Entry[] => [...entries.values()].filter((entry) => entry.type === type);
    const now = performance.now();

    const media: Record<string, unknown> = {};
    for (const leg of legs) {
      const outbound = byType('outbound-rtp').find((entry) => entry.ssrc === leg.sender.ssrc);
      const remote = outbound?.remoteId ? entries.get(outbound.remoteId as string) : undefined;
      const bytes = number(outbound?.bytesSent);
      const last = this.previous.get(leg.kind);
      this.previous.set(leg.kind, { at: now, bytes });
      const rtt = remote?.roundTripTime;
      media[leg.kind] = {
        codec: leg.codec,
        ...(leg.kind === 'video' && {
          width: leg.pipeline.width,
          height: leg.pipeline.height,
          fps: leg.pipeline.fps,
        }),
        bitrate_kbps: last && now > last.at ? Math.round(((bytes - last.bytes) * 8) / (now - last.at)) : null,
        packets_sent: number(outbound?.packetsSent),
        bytes_sent: bytes,
        retransmitted_packets: number(outbound?.retransmittedPacketsSent),
        nack_count: number(outbound?.nackCount),
        ...(leg.kind === 'video' && { pli_count: number(outbound?.pliCount), fir_count: leg.firCount }),
        packets_lost: typeof remote?.packetsLost === 'number' ? remote.packetsLost : null,
        fraction_lost: typeof remote?.fractionLost === 'number' ? remote.fractionLost : null,
        jitter_ms: leg.jitterSeconds === null ? null : round(leg.jitterSeconds * 1000),
        rtt_ms: typeof rtt === 'number' ? round(rtt * 1000) : null,
        ...(leg.congestion !== undefined && { congestion: leg.congestion }),
      };
    }

    const transport = byType('transport')[0];
    const pair = transport?.selectedCandidatePairId ? entries.get(transport.selectedCandidatePairId as string) : undefined;
    const candidate = (id: unknown): Record<string, unknown> | null => {
      const entry = typeof id === 'string' ? entries.get(id) : undefined;
      return entry
        ? { address: entry.address, port: entry.port, protocol: entry.protocol, type: entry.candidateType }
        : null;
    };
    return {
      session_id: sessionId,
      connection_state: pc.connectionState,
      ice_state: pc.iceConnectionState,
      ...media,
      selected_candidate_pair: pair
        ? {
            local: candidate(pair.localCandidateId),
            remote: candidate(pair.remoteCandidateId),
            rtt_ms: typeof pair.currentRoundTripTime === 'number' ? round(pair.currentRoundTripTime * 1000) : null,
          }
        : null,
      data_channels: byType('data-channel').map((entry) => ({
        label: entry.label,
        state: entry.state,
        messages_received: number(entry.messagesReceived),
      })),
    };
  }
}

function number(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
