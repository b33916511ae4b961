import { MediaStreamTrack, RtcpRrPacket, RtcpSrPacket, type MediaStream, type RTCPeerConnection, type RTCRtpTransceiver } from 'werift';
import type { RungName } from './congestion/ladder-policy.js';
import type { StreamPipeline } from './stream-pipeline.js';
import type { VideoCodec } from './types.js';

/** What a leg is fed from: a video encoder of this codec, or the source's Opus encoder. */
export type Encoding = VideoCodec | 'OPUS';

/** One kind of media sent to this viewer: its own werift track, fed from a shared encoder. */
export interface MediaLeg {
  transceiver: RTCRtpTransceiver;
  track: MediaStreamTrack;
  /** The encoder feeding the track, while attached. */
  pipeline?: StreamPipeline;
  encoding?: Encoding;
  detach?: () => void;
  down: boolean;
  /** RTP of a newly attached encoder waits for the answer that negotiates its codec. */
  held: boolean;
  lastSsrc?: number;
  jitterSeconds: number | null;
  firCount: number;
  /** The ladder's rung of the encoder feeding the track (video). */
  rung: RungName;
  /** A move to another rung, waiting for that encoder's keyframe. */
  pending?: { rung: RungName; detach?: () => void };
  /** The leg's latest encoder change, settled: the next one starts after it, so two never race. */
  settled: Promise<void>;
}

/** A sending transceiver of `kind` on `pc`, its receiver reports read for jitter and (video) its PLIs for keyframes. */
export function newLeg(pc: RTCPeerConnection, kind: 'video' | 'audio', stream: MediaStream): MediaLeg {
  const track = new MediaStreamTrack({ kind });
  const transceiver = pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
  const leg: MediaLeg = { transceiver, track, down: false, held: false, jitterSeconds: null, firCount: 0, rung: 'full', settled: Promise.resolve() };
  const clockRate = kind === 'video' ? 90000 : 48000;
  transceiver.sender.onRtcp.subscribe((packet) => {
    if (!(packet instanceof RtcpRrPacket || packet instanceof RtcpSrPacket)) return;
    const report = packet.reports.find((r) => r.ssrc === transceiver.sender.ssrc);
    if (report) leg.jitterSeconds = report.jitter / clockRate;
  });
  if (kind === 'video') transceiver.sender.onPictureLossIndication.subscribe(() => leg.pipeline?.requestKeyframe());
  return leg;
}

/** Runs a change of the leg's encoder after the leg's previous change has settled. */
export function changeEncoder(leg: MediaLeg, change: (leg: MediaLeg) => Promise<void>): Promise<void> {
  const run = leg.settled.then(() => change(leg));
  leg.settled = run.catch(() => undefined);
  return run;
}

/** Stops feeding a leg from its encoder (the encoder keeps running for other viewers). */
export function release(leg: MediaLeg): void {
  leg.detach?.();
  leg.pending?.detach?.();
  Object.assign(leg, { pipeline: undefined, detach: undefined, encoding: undefined, down: false, rung: 'full', pending: undefined });
}
