/**
 * A readable summary of the browser's own WebRTC statistics (RTCPeerConnection.getStats()):
 * what a person wants on an overlay, computed from two successive reports for the rates.
 */

export interface MediaStatsSummary {
  /** Report time (ms, the stats' own clock). */
  timestamp: number;
  codec: string | null;
  width: number | null;
  height: number | null;
  /** Frames per second decoded (the browser's figure, or derived from the frame count). */
  fps: number | null;
  framesDecoded: number;
  framesDropped: number;
  /** Received video bitrate, kbit/s, since the previous sample. */
  bitrateKbps: number | null;
  packetsReceived: number;
  packetsLost: number;
  /** Loss since the previous sample in % (cumulative for the first sample). */
  packetLossPercent: number | null;
  jitterMs: number | null;
  /** ICE round-trip time of the selected candidate pair, ms. */
  rttMs: number | null;
  /** Audio codec, when audio flows. */
  audioCodec: string | null;
  /** Raw counters kept for the next call's rates. */
  bytesReceived: number;
}

type StatsRecord = Record<string, unknown> & { id: string; type: string; timestamp?: number };

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function codecName(record: StatsRecord | undefined): string | null {
  const mime = str(record?.mimeType);
  if (!mime) return null;
  return mime.replace(/^(video|audio)\//i, '');
}

/** Summarizes one report (`Iterable` of stats objects, e.g. an RTCStatsReport's values()). */
export function summarizeStats(report: Iterable<unknown>, previous: MediaStatsSummary | null = null): MediaStatsSummary | null {
  const byId = new Map<string, StatsRecord>();
  for (const r of report) {
    const rec = r as StatsRecord;
    if (rec && typeof rec.id === 'string') byId.set(rec.id, rec);
  }
  let video: StatsRecord | undefined;
  let audio: StatsRecord | undefined;
  let pair: StatsRecord | undefined;
  for (const rec of byId.values()) {
    if (rec.type === 'inbound-rtp') {
      const kind = rec.kind ?? rec.mediaType;
      if (kind === 'video' && (!video || (num(rec.bytesReceived) ?? 0) > (num(video.bytesReceived) ?? 0))) video = rec;
      if (kind === 'audio') audio = rec;
    }
    if (rec.type === 'transport' && typeof rec.selectedCandidatePairId === 'string') pair = byId.get(rec.selectedCandidatePairId);
  }
  if (!pair) {
    for (const rec of byId.values()) {
      if (rec.type === 'candidate-pair' && rec.state === 'succeeded' && (rec.nominated || rec.selected)) pair = rec;
    }
  }
  if (!video) return null;

  const timestamp = num(video.timestamp) ?? Date.now();
  const bytesReceived = num(video.bytesReceived) ?? 0;
  const framesDecoded = num(video.framesDecoded) ?? 0;
  const packetsReceived = num(video.packetsReceived) ?? 0;
  const packetsLost = Math.max(0, num(video.packetsLost) ?? 0);
  const dt = previous ? (timestamp - previous.timestamp) / 1000 : 0;
  const sameStream = previous !== null && dt > 0 && bytesReceived >= previous.bytesReceived;

  let fps = num(video.framesPerSecond);
  if (fps === null && sameStream && previous) fps = (framesDecoded - previous.framesDecoded) / dt;
  const bitrateKbps = sameStream && previous ? ((bytesReceived - previous.bytesReceived) * 8) / dt / 1000 : null;

  let lost = packetsLost;
  let received = packetsReceived;
  if (sameStream && previous && packetsReceived >= previous.packetsReceived) {
    lost = Math.max(0, packetsLost - previous.packetsLost);
    received = packetsReceived - previous.packetsReceived;
  }
  const packetLossPercent = lost + received > 0 ? (100 * lost) / (lost + received) : null;
  const jitter = num(video.jitter);
  const rtt = num(pair?.currentRoundTripTime);

  return {
    timestamp,
    codec: codecName(typeof video.codecId === 'string' ? byId.get(video.codecId) : undefined),
    width: num(video.frameWidth),
    height: num(video.frameHeight),
    fps,
    framesDecoded,
    framesDropped: num(video.framesDropped) ?? 0,
    bitrateKbps,
    packetsReceived,
    packetsLost,
    packetLossPercent,
    jitterMs: jitter === null ? null : jitter * 1000,
    rttMs: rtt === null ? null : rtt * 1000,
    audioCodec: codecName(audio && typeof audio.codecId === 'string' ? byId.get(audio.codecId) : undefined),
    bytesReceived,
  };
}
