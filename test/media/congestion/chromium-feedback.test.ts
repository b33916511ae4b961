/**
 * What Chromium actually sends back to a werift sender that offers transport-cc, read the way the wiring
 * will read it (werift-feedback.ts) and fed to the estimator. RTP here is synthetic (VP8 payload
 * descriptors in front of filler): feedback is produced per packet, before any decoding.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket, useTransportWideCC } from 'werift';
import { BandwidthEstimator } from '../../../src/media/congestion/bandwidth-estimator.js';
import { routeFeedback, writeCounted, type FeedbackSink } from '../../../src/media/congestion/werift-feedback.js';
import { BrowserPeer, launchChromium } from '../../helpers/chromium.js';

const RATE_BPS = 1_500_000;
const FPS = 30;
const PAYLOAD_BYTES = 1000;
const SEND_MS = 6000;

test('Chromium answers transport-cc with TWCC feedback and receiver reports, which the estimator turns into a twcc estimate', { timeout: 60_000 }, async (t) => {
  const browser = await launchChromium();
  t.after(() => browser.close());
  const peer = await BrowserPeer.open(browser);
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
    headerExtensions: { video: [useTransportWideCC()], audio: [] },
    codecs: {
      video: [
        new RTCRtpCodecParameters({
          mimeType: 'video/VP8',
          clockRate: 90000,
          rtcpFeedback: [{ type: 'transport-cc' }, { type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'goog-remb' }],
        }),
      ],
      audio: [],
    },
  });
  t.after(async () => {
    await peer.close();
    await pc.close();
  });
  const track = new MediaStreamTrack({ kind: 'video' });
  const transceiver = pc.addTransceiver(track, { direction: 'sendonly' });
  const offer = await pc.createOffer();
  // werift falls back to a public STUN server when none is configured: loopback only here.
  for (const transport of pc.iceTransports) transport.connection.stunServer = undefined;
  await pc.setLocalDescription(offer);
  await pc.setRemoteDescription({ type: 'answer', sdp: await peer.answer(pc.localDescription!.sdp) });
  const connected = new Promise<void>((resolve) => pc.connectionStateChange.subscribe((state) => state === 'connected' && resolve()));
  const relay = setInterval(() => {
    void peer
      .takeCandidates()
      .then((candidates) => {
        for (const c of candidates) void pc.addIceCandidate({ candidate: c.candidate, sdpMid: c.sdpMid ?? undefined, sdpMLineIndex: c.sdpMLineIndex ?? undefined }).catch(() => undefined);
      })
      .catch(() => undefined);
  }, 50);
  try {
    await connected;
  } finally {
    clearInterval(relay);
  }

  const counts = { sent: 0, twcc: 0, results: 0, lost: 0, remb: 0, reports: 0 };
  const estimator = new BandwidthEstimator({ initialBps: 2_500_000, minBps: 100_000, maxBps: 5_000_000, now: () => performance.now() });
  const sink: FeedbackSink = {
    onPacketSent: (...args) => {
      counts.sent++;
      estimator.onPacketSent(...args);
    },
    onTwccFeedback: (results) => {
      counts.twcc++;
      counts.results += results.length;
      counts.lost += results.filter((r) => r.receivedAtMs === null).length;
      estimator.onTwccFeedback(results);
    },
    onRemb: (bps) => {
      counts.remb++;
      estimator.onRemb(bps);
    },
    onReceiverReport: (fraction, rtt) => {
      counts.reports++;
      estimator.onReceiverReport(fraction, rtt);
    },
  };
  const dtls = pc.dtlsTransports[0]!;
  const ssrc = transceiver.sender.ssrc;
  dtls.onRtcp.subscribe((packet) => routeFeedback(packet, sink, { report: ssrc, all: [ssrc] }, () => null));

  const packetsPerFrame = Math.round(RATE_BPS / 8 / FPS / PAYLOAD_BYTES);
  let sequenceNumber = 0;
  for (let frame = 0; frame < (SEND_MS / 1000) * FPS; frame++) {
    for (let i = 0; i < packetsPerFrame; i++) {
      const payload = Buffer.alloc(PAYLOAD_BYTES, 0x55);
      payload[0] = i === 0 ? 0x10 : 0x00; // VP8 descriptor: start of partition on the frame's first packet
      const header = new RtpHeader({ sequenceNumber: sequenceNumber++ & 0xffff, timestamp: frame * 3000, payloadType: 96, ssrc: 1, marker: i === packetsPerFrame - 1 });
      const packet = new RtpPacket(header, payload).serialize();
      writeCounted(dtls, sink, packet.length, performance.now(), () => track.writeRtp(packet));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000 / FPS));
  }
  await new Promise((resolve) => setTimeout(resolve, 500));

  // werift keeps the round-trip time it computes from receiver reports private, but reports it in getStats.
  const stats = [...(await pc.getStats()).values()] as unknown as Record<string, unknown>[];
  const rtt = stats.find((entry) => entry.type === 'remote-inbound-rtp')?.roundTripTime;
  assert.ok(typeof rtt === 'number' && rtt >= 0 && rtt < 0.2, `werift's RTT from Chromium's reports: ${String(rtt)} s`);
  const estimate = estimator.estimate();
  t.diagnostic(`counts ${JSON.stringify(counts)}; estimate ${JSON.stringify(estimate)}`);
  assert.ok(counts.sent > 1000, `packets numbered: ${counts.sent}`);
  assert.ok(counts.twcc >= (SEND_MS / 1000) * 5, `TWCC feedbacks: ${counts.twcc} in ${SEND_MS / 1000} s`);
  assert.ok(counts.results >= counts.sent * 0.9, `${counts.results} results for ${counts.sent} packets`);
  assert.ok(counts.lost <= counts.results * 0.05, `${counts.lost} reported lost on loopback`);
  assert.ok(counts.reports >= 2, `receiver reports: ${counts.reports}`);
  assert.equal(counts.remb, 0, 'with transport-cc negotiated, Chromium sends no REMB');
  assert.equal(estimate.source, 'twcc');
  assert.ok(estimate.ackedBps !== null && Math.abs(estimate.ackedBps - RATE_BPS) < RATE_BPS * 0.4, `acknowledged ${estimate.ackedBps} bit/s of ~${RATE_BPS}`);
  assert.ok(estimate.bps >= RATE_BPS, `a loopback link is not read as congested: ${estimate.bps}`);
});
