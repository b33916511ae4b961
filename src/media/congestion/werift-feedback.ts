import { twccResults, type TwccFeedbackFields } from './twcc-feedback.js';

/**
 * The seam between werift and the estimator, by shape only (werift is not imported, so this stays testable
 * with plain objects). werift 0.25 gives no usable sent-packet record: its sender's `rtpPacketSent` reads the
 * transport-wide sequence number after an await, by which time later packets of the same burst have taken
 * newer numbers. The number is read here instead, synchronously around `writeRtp`, where werift assigns it.
 */

/** What the estimator takes (BandwidthEstimator). */
export interface FeedbackSink {
  onPacketSent(seq: number, sizeBytes: number, sentAtMs: number): void;
  onTwccFeedback(results: readonly { seq: number; receivedAtMs: number | null }[]): void;
  onRemb(bps: number): void;
  onReceiverReport(fractionLost: number, rttMs: number | null): void;
}

/** werift's RTCDtlsTransport: it numbers every RTP packet it sends when transport-cc is negotiated. */
export interface NumberingTransport {
  transportSequenceNumber: number;
}

/** IP, UDP and SRTP's tag, and the header extensions werift adds: what a packet weighs on the wire beyond its RTP. */
const WIRE_OVERHEAD_BYTES = 48;

/**
 * Writes one RTP packet through werift (`write` is the track's writeRtp) and tells the estimator the
 * transport-wide number werift gave it. No new number means werift did not send it (not connected yet,
 * or transport-cc not negotiated): nothing to record.
 */
export function writeCounted(transport: NumberingTransport, sink: FeedbackSink, sizeBytes: number, nowMs: number, write: () => void): void {
  const before = transport.transportSequenceNumber;
  write();
  const after = transport.transportSequenceNumber;
  if (after !== before) sink.onPacketSent(after & 0xffff, sizeBytes + WIRE_OVERHEAD_BYTES, nowMs);
}

/** RTCP packet types (RFC 3550, RFC 4585) and feedback formats werift tags its parsed packets with. */
const SENDER_REPORT = 200;
const RECEIVER_REPORT = 201;
const TRANSPORT_FEEDBACK = 205;
const PAYLOAD_FEEDBACK = 206;
const TWCC_FMT = 15;
const REMB_FMT = 15;

/**
 * Hands one RTCP packet from werift (a DTLS transport's `onRtcp`, which sees every packet of the bundle)
 * to the estimator when it is feedback on our media: TWCC (transport-wide, whichever SSRC it names), REMB
 * naming one of `ssrcs.all`, and the reception report block about `ssrcs.report` (the video). The round-trip
 * time comes from the caller: werift computes it in its sender from its own SR send times (the NTP fraction
 * in werift's SRs is malformed, so LSR/DLSR cannot be turned into a time here) and its peer connection has
 * routed the report to the sender before later `onRtcp` listeners run. Returns whether it was feedback.
 */
export function routeFeedback(
  packet: unknown,
  sink: FeedbackSink,
  ssrcs: { report: number; all: readonly number[] },
  rttMs: () => number | null,
): boolean {
  if (!isRecord(packet) || typeof packet.type !== 'number') return false;
  const feedback = isRecord(packet.feedback) ? packet.feedback : undefined;
  if (packet.type === TRANSPORT_FEEDBACK && feedback?.count === TWCC_FMT && isTwcc(feedback)) {
    sink.onTwccFeedback(twccResults(feedback));
    return true;
  }
  if (packet.type === PAYLOAD_FEEDBACK && feedback?.count === REMB_FMT && isRemb(feedback)) {
    if (!feedback.ssrcFeedbacks.some((ssrc) => ssrcs.all.includes(ssrc))) return false;
    sink.onRemb(Number(feedback.bitrate));
    return true;
  }
  if ((packet.type === RECEIVER_REPORT || packet.type === SENDER_REPORT) && Array.isArray(packet.reports)) {
    const report: unknown = packet.reports.find((r: unknown) => isRecord(r) && r.ssrc === ssrcs.report);
    if (!isRecord(report) || typeof report.fractionLost !== 'number') return false;
    sink.onReceiverReport(report.fractionLost / 256, rttMs());
    return true;
  }
  return false;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isTwcc(feedback: Record<string, unknown>): feedback is Record<string, unknown> & TwccFeedbackFields {
  return (
    typeof feedback.baseSequenceNumber === 'number' &&
    typeof feedback.packetStatusCount === 'number' &&
    typeof feedback.referenceTime === 'number' &&
    Array.isArray(feedback.packetChunks) &&
    feedback.packetChunks.every(
      (chunk: unknown) =>
        isRecord(chunk) &&
        ((typeof chunk.runLength === 'number' && typeof chunk.packetStatus === 'number') || Array.isArray(chunk.symbolList)),
    ) &&
    Array.isArray(feedback.recvDeltas) &&
    feedback.recvDeltas.every((delta: unknown) => isRecord(delta) && typeof delta.delta === 'number')
  );
}

function isRemb(feedback: Record<string, unknown>): feedback is Record<string, unknown> & { bitrate: bigint | number; ssrcFeedbacks: number[] } {
  return (typeof feedback.bitrate === 'bigint' || typeof feedback.bitrate === 'number') && Array.isArray(feedback.ssrcFeedbacks);
}
