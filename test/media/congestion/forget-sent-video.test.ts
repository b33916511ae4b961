/**
 * After a sudden capacity drop the viewer's rate control makes werift forget the video it keeps for
 * retransmission (viewer-rate-control.ts `forgetSentVideo`). This relies on werift's NACK handling reading
 * `rtpCache`, private in its typings: the test runs werift's own sender, so an upgrade that changes it fails here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GenericNack, RTCRtpSender, RtcpTransportLayerFeedback, RtpHeader, RtpPacket, type RTCDtlsTransport } from 'werift';
import { ViewerRateControl } from '../../../src/media/viewer-rate-control.js';

test("werift answers a NACK from its sent history, and no longer once the viewer's rate control forgot it", async () => {
  const sender = new RTCRtpSender('video');
  const resent: number[] = [];
  const transport = {
    sendRtp: (_payload: Buffer, header: RtpHeader) => {
      resent.push(header.sequenceNumber);
      return Promise.resolve(0);
    },
    onRtcp: { subscribe: () => ({ unSubscribe: () => undefined }) },
  };
  Object.assign(sender, { dtlsTransport: transport });
  // What werift's sendRtp records for each packet it sends (the slot of its 128-packet history).
  const history = (sender as unknown as { rtpCache: RtpPacket[] }).rtpCache;
  for (const sequenceNumber of [1000, 1001]) history[sequenceNumber % 128] = new RtpPacket(new RtpHeader({ sequenceNumber, ssrc: sender.ssrc }), Buffer.alloc(100));
  const nack = (lost: number[]): void =>
    sender.handleRtcpPacket(new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: 1, mediaSourceSsrc: sender.ssrc, lost }) }));

  nack([1000]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(resent, [1000], 'werift resends a NACKed packet it still holds');

  const rate = new ViewerRateControl(2_500_000);
  rate.observe(transport as unknown as RTCDtlsTransport, sender, [sender]);
  rate.forgetSentVideo();
  nack([1001]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(resent, [1000], 'nothing resent once forgotten');
  rate.close();
});
