/**
 * Per-packet results of a transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-
 * extensions-01), read from the fields werift's RTCP parser fills in.
 *
 * werift 0.25's own `TransportWideCC.packetResults` is not usable for estimation: it skips status-vector
 * chunks (Chromium sends them whenever received and lost packets mix), numbers every run-length chunk from
 * the base sequence number again (and one packet too many), and truncates each receive delta to whole
 * milliseconds before adding them up (a 250 µs delta becomes 0). Its parser's raw fields are right, so the
 * results are rebuilt from those.
 */

/** What werift's parsed `TransportWideCC` holds, by shape: this module does not import werift. */
export interface TwccFeedbackFields {
  baseSequenceNumber: number;
  packetStatusCount: number;
  /** Multiples of 64 ms, on the receiver's clock. */
  referenceTime: number;
  packetChunks: readonly TwccChunk[];
  /** One per packet reported received with a delta, in order; µs. */
  recvDeltas: readonly { delta: number }[];
}

/** A run-length chunk (one status, repeated) or a status-vector chunk (one symbol per packet). */
export type TwccChunk =
  | { runLength: number; packetStatus: number }
  | { symbolSize: number; symbolList: readonly number[] };

export interface TwccPacketResult {
  /** Transport-wide sequence number (16 bits). */
  seq: number;
  /** Arrival on the receiver's clock (ms, fractional), or null when the receiver reports it missing. */
  receivedAtMs: number | null;
}

const NOT_RECEIVED = 0;
const SMALL_DELTA = 1;
const LARGE_DELTA = 2;
const REFERENCE_TIME_UNIT_MS = 64;

export function twccResults(feedback: TwccFeedbackFields): TwccPacketResult[] {
  const statuses: number[] = [];
  for (const chunk of feedback.packetChunks) {
    if ('runLength' in chunk) {
      for (let i = 0; i < chunk.runLength; i++) statuses.push(chunk.packetStatus);
    } else {
      statuses.push(...chunk.symbolList);
    }
  }
  // The last chunk may be padded past the packets the feedback covers.
  statuses.length = Math.min(statuses.length, feedback.packetStatusCount);
  const results: TwccPacketResult[] = [];
  let arrivalUs = feedback.referenceTime * REFERENCE_TIME_UNIT_MS * 1000;
  let deltaIndex = 0;
  statuses.forEach((status, i) => {
    const seq = (feedback.baseSequenceNumber + i) & 0xffff;
    if (status === NOT_RECEIVED) {
      results.push({ seq, receivedAtMs: null });
      return;
    }
    if (status !== SMALL_DELTA && status !== LARGE_DELTA) return; // "received, no delta": no time to use
    const delta = feedback.recvDeltas[deltaIndex++];
    if (!delta) return;
    arrivalUs += delta.delta;
    results.push({ seq, receivedAtMs: arrivalUs / 1000 });
  });
  return results;
}
