import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReceiverEstimatedMaxBitrate, RtcpPayloadSpecificFeedback, RtcpPacketConverter, RtcpReceiverInfo, RtcpRrPacket, RtcpTransportLayerFeedback, TransportWideCC, RunLengthChunk, RecvDelta, PacketStatus } from 'werift';
import { routeFeedback, writeCounted, type FeedbackSink } from '../../../src/media/congestion/werift-feedback.js';

function recordingSink(): FeedbackSink & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    calls,
    onPacketSent: (...args) => void calls.push(['sent', ...args]),
    onTwccFeedback: (results) => void calls.push(['twcc', results]),
    onRemb: (bps) => void calls.push(['remb', bps]),
    onReceiverReport: (fraction, rtt) => void calls.push(['report', fraction, rtt]),
  };
}

/** Serialized by werift and parsed back, as its transport hands packets to onRtcp listeners. */
function throughWerift<T>(packet: { serialize(): Buffer }): T {
  return RtcpPacketConverter.deSerialize(packet.serialize())[0] as T;
}

const VIDEO = 1111;
const AUDIO = 2222;

test('TWCC, REMB and receiver reports from werift reach the estimator; other RTCP does not', () => {
  const sink = recordingSink();
  const ssrcs = { report: VIDEO, all: [VIDEO, AUDIO] };
  const twcc = new RtcpTransportLayerFeedback({
    feedback: new TransportWideCC({
      senderSsrc: 1,
      mediaSourceSsrc: AUDIO,
      baseSequenceNumber: 100,
      packetStatusCount: 2,
      referenceTime: 1,
      fbPktCount: 0,
      packetChunks: [new RunLengthChunk({ packetStatus: PacketStatus.TypeTCCPacketReceivedSmallDelta, runLength: 2 })],
      recvDeltas: [new RecvDelta({ type: PacketStatus.TypeTCCPacketReceivedSmallDelta, delta: 1000 }), new RecvDelta({ type: PacketStatus.TypeTCCPacketReceivedSmallDelta, delta: 500 })],
    }),
  });
  assert.equal(routeFeedback(throughWerift(twcc), sink, ssrcs, () => null), true);
  assert.deepEqual(sink.calls.at(-1), ['twcc', [{ seq: 100, receivedAtMs: 65 }, { seq: 101, receivedAtMs: 65.5 }]]);

  const remb = new RtcpPayloadSpecificFeedback({
    feedback: new ReceiverEstimatedMaxBitrate({ senderSsrc: 1, mediaSsrc: 0, ssrcNum: 1, brExp: 3, brMantissa: 237_500, ssrcFeedbacks: [VIDEO] }),
  });
  assert.equal(routeFeedback(throughWerift(remb), sink, ssrcs, () => null), true);
  assert.deepEqual(sink.calls.at(-1), ['remb', 1_900_000], '237 500 × 2³');

  const report = new RtcpRrPacket({
    ssrc: 1,
    reports: [
      new RtcpReceiverInfo({ ssrc: AUDIO, fractionLost: 0, packetsLost: 0, highestSequence: 1, jitter: 0, lsr: 0, dlsr: 0 }),
      new RtcpReceiverInfo({ ssrc: VIDEO, fractionLost: 64, packetsLost: 3, highestSequence: 1, jitter: 0, lsr: 0, dlsr: 0 }),
    ],
  });
  assert.equal(routeFeedback(throughWerift(report), sink, ssrcs, () => 42), true);
  assert.deepEqual(sink.calls.at(-1), ['report', 0.25, 42]);

  const count = sink.calls.length;
  const otherRemb = new RtcpPayloadSpecificFeedback({
    feedback: new ReceiverEstimatedMaxBitrate({ senderSsrc: 1, mediaSsrc: 0, ssrcNum: 1, brExp: 0, brMantissa: 100_000, ssrcFeedbacks: [9999] }),
  });
  assert.equal(routeFeedback(throughWerift(otherRemb), sink, ssrcs, () => null), false, 'a REMB about another stream');
  assert.equal(routeFeedback({ type: 205, feedback: { count: 15, packetChunks: 'nonsense' } }, sink, ssrcs, () => null), false);
  assert.equal(routeFeedback(null, sink, ssrcs, () => null), false);
  assert.equal(sink.calls.length, count);
});

test('a packet is recorded under the transport-wide number werift gave it during writeRtp, and only if it got one', () => {
  const sink = recordingSink();
  const transport = { transportSequenceNumber: 65535 };
  writeCounted(transport, sink, 1000, 5, () => (transport.transportSequenceNumber = 0));
  writeCounted(transport, sink, 1000, 6, () => undefined);
  assert.deepEqual(sink.calls, [['sent', 0, 1048, 5]]);
});
