import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { JanusAdmin } from '../../src/janus/janus-admin.js';
import { JanusError } from '../../src/janus/janus-error.js';
import { JanusSession } from '../../src/janus/janus-session.js';
import { KeyframeRequests } from '../../src/janus/keyframe-requests.js';
import { AUDIO_MID, VIDEO_MID } from '../../src/janus/mountpoint-spec.js';
import { RtpForwarder } from '../../src/janus/rtp-forwarder.js';
import { StreamingHandle, type CreatedMountpoint } from '../../src/janus/streaming-handle.js';
import { describePipeline, type StreamSpec } from '../../src/media/pipeline-description.js';
import { inspectVideoPayload, parseRtpHeader } from '../../src/media/rtp-inspect.js';
import type { VideoCodec } from '../../src/media/types.js';
import { BrowserPeer, launchChromium, type InboundRtp } from '../helpers/chromium.js';
import { JanusServer } from '../helpers/janus-server.js';
import { isAlive, waitUntil } from '../helpers/processes.js';
import { SMPTE_POINTS, eventually, looksLikeSmpteBars } from '../media/browser-session.js';

const WIDTH = 640;
const HEIGHT = 360;
const video = (inbound: InboundRtp[]): InboundRtp | undefined => inbound.find((entry) => entry.kind === 'video');
const audio = (inbound: InboundRtp[]): InboundRtp | undefined => inbound.find((entry) => entry.kind === 'audio');
// Chromium can count a decoded frame one stats sample before it reports the frame's size.
const decoding = (inbound: InboundRtp[]): boolean =>
  (video(inbound)?.framesDecoded ?? 0) > 0 && video(inbound)?.frameWidth !== undefined;

/**
 * One of our encoders, as the server runs it (the launch string of src/media/pipeline-description.ts, here
 * in gst-launch-1.0), sending to a loopback socket of this process that forwards each packet to Janus: the
 * path Streamgate's fan-out will take.
 */
class ForwardedEncoder {
  /** While set, the packets of every keyframe are dropped instead of forwarded. */
  private starving: { codec: VideoCodec; timestamp?: number } | undefined;

  private constructor(
    private readonly child: ChildProcess,
    private readonly socket: Socket,
    readonly forwarder: RtpForwarder,
  ) {}

  static async start(spec: StreamSpec, janusPort: number): Promise<ForwardedEncoder> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const forwarder = new RtpForwarder(janusPort);
    const { launch } = describePipeline(spec, { port: socket.address().port, ssrc: 1000 + Math.floor(Math.random() * 1e6) });
    const child = spawn('gst-launch-1.0', ['-q', ...launch.split(' ')], { stdio: ['ignore', 'ignore', 'inherit'] });
    const encoder = new ForwardedEncoder(child, socket, forwarder);
    socket.on('message', (packet) => {
      if (!encoder.drops(packet)) forwarder.forward(packet);
    });
    return encoder;
  }

  /**
   * Loses every keyframe of `codec` on the way to Janus (undefined: none), and with it the following frames,
   * which refer to it: loss the viewers cannot repair by NACK (Janus never had the packets), only by a keyframe.
   */
  starveOfKeyframes(codec: VideoCodec | undefined): void {
    this.starving = codec ? { codec } : undefined;
  }

  private drops(packet: Buffer): boolean {
    const header = this.starving ? parseRtpHeader(packet) : undefined;
    if (!this.starving || !header) return false;
    if (inspectVideoPayload(this.starving.codec, header.payload).keyframe) this.starving.timestamp = header.timestamp;
    return header.timestamp === this.starving.timestamp;
  }

  private stopped = false;

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      await exited;
    }
    this.socket.close();
    this.forwarder.close();
  }
}

/** Negotiates a Chromium page with a streaming handle watching `mountpoint`, as Streamgate's signaling will relay it. */
async function watchInBrowser(handle: StreamingHandle, peer: BrowserPeer, mountpoint: number): Promise<string> {
  const offer = await handle.watch(mountpoint);
  const up = once(handle, 'webrtcup');
  const answer = await peer.answer(offer);
  await handle.start(answer);
  // Chromium's host candidates are mDNS names Janus is told to ignore; it still connects, on the
  // peer-reflexive candidate learnt from Chromium's checks. They are passed on as signaling would.
  await eventually(async () => (await peer.takeCandidates()).length > 0, 3000);
  for (const candidate of await peer.takeCandidates()) await handle.trickle(candidate);
  await handle.trickle(null);
  await Promise.race([up, new Promise((_, reject) => setTimeout(() => reject(new Error('no webrtcup within 15 s')), 15_000))]);
  return offer;
}

describe('Janus streaming plugin driven by src/janus, viewed in headless Chromium', { timeout: 240_000 }, () => {
  let janus: JanusServer;
  let browser: Browser;
  const cleanups: (() => Promise<void> | void)[] = [];

  before(async () => {
    janus = await JanusServer.start();
    browser = await launchChromium();
  });
  // Each test's encoders stop with it: Janus gives a destroyed mountpoint's ports to the next one it creates,
  // and an encoder still sending there would mix its RTP into the next test's stream.
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  });
  after(async () => {
    await browser?.close();
    const pid = janus?.pid;
    await janus?.dispose();
    if (pid !== undefined) assert.equal(isAlive(pid), false, 'janus is stopped');
  });

  async function connect(): Promise<{ session: JanusSession; admin: StreamingHandle }> {
    const session = await JanusSession.connect({ url: janus.url, apiSecret: janus.apiSecret });
    cleanups.push(() => session.destroy());
    return { session, admin: await StreamingHandle.attach(session) };
  }

  for (const codec of ['H264', 'VP8'] as const satisfies readonly VideoCodec[]) {
    test(`${codec}: a mountpoint fed by our encoders plays in Chromium at the source's size, and Janus's keyframe requests reach us, a new encoder SSRC plays on`, async () => {
      const { session, admin } = await connect();
      const mountpoint = await admin.create(
        { description: `test ${codec}`, video: { codec, port: 0, rtcpPort: 0 }, audio: { port: 0 } },
        janus.adminKey,
      );
      assert.ok(mountpoint.video?.port && mountpoint.video.rtcpPort && mountpoint.audio?.port, `ports: ${JSON.stringify(mountpoint)}`);
      const keyframes = await KeyframeRequests.open(mountpoint.video.rtcpPort);
      cleanups.push(() => keyframes.close());
      const videoSpec: StreamSpec = { kind: 'video', source: { kind: 'test' }, codec, width: WIDTH, height: HEIGHT, framerate: 30, bitrateKbps: 1500 };
      const videoEncoder = await ForwardedEncoder.start(videoSpec, mountpoint.video.port);
      cleanups.push(() => videoEncoder.stop());
      const audioEncoder = await ForwardedEncoder.start({ kind: 'audio', source: { kind: 'test' } }, mountpoint.audio.port);
      cleanups.push(() => audioEncoder.stop());

      const info = await admin.info(mountpoint.id);
      assert.deepEqual(
        info.media.map((m) => [m.mid, m.type, m.pt, m.codec]),
        [
          [VIDEO_MID, 'video', 96, codec.toLowerCase()],
          [AUDIO_MID, 'audio', 111, 'opus'],
        ],
      );
      await waitUntil('Janus receives the forwarded RTP', async () => {
        const media = (await admin.info(mountpoint.id)).media;
        return media.every((m) => m.age_ms !== undefined && m.age_ms < 1000);
      });

      const viewer = await StreamingHandle.attach(session);
      const peer = await BrowserPeer.open(browser);
      cleanups.push(() => peer.close());
      const statuses: string[] = [];
      viewer.on('status', (status) => statuses.push(status));
      const offer = await watchInBrowser(viewer, peer, mountpoint.id);
      assert.match(offer, new RegExp(`^a=rtpmap:96 ${codec}/90000`, 'm'));
      assert.match(offer, /^a=rtpmap:111 opus\/48000\/2/m);

      const inbound = await peer.waitForInbound((i) => decoding(i) && (audio(i)?.packetsReceived ?? 0) > 0, 20_000);
      assert.ok(decoding(inbound), `frames decoded: ${JSON.stringify(inbound)}`);
      assert.equal(video(inbound)?.codec, `video/${codec}`);
      assert.equal(video(inbound)?.frameWidth, WIDTH);
      assert.equal(video(inbound)?.frameHeight, HEIGHT);
      assert.ok((audio(inbound)?.packetsReceived ?? 0) > 0, 'audio packets arrive');
      assert.ok(
        await eventually(async () => looksLikeSmpteBars(await peer.videoPixels(SMPTE_POINTS))),
        `the picture shows the colour bars: ${JSON.stringify(await peer.videoPixels(SMPTE_POINTS))}`,
      );
      assert.ok(statuses.includes('starting') || statuses.includes('started'), `statuses: ${statuses.join(', ')}`);
      assert.equal((await admin.info(mountpoint.id)).viewers, 1);
      // What Janus itself counts for this viewer, through its admin API.
      const sent = await new JanusAdmin({ url: janus.adminUrl, adminSecret: janus.adminKey }).sentMedia(session.id, viewer.id);
      const sentVideo = sent.find((m) => m.mid === VIDEO_MID);
      const sentAudio = sent.find((m) => m.mid === AUDIO_MID);
      assert.equal(sentVideo?.codec, codec.toLowerCase(), JSON.stringify(sent));
      assert.ok((sentVideo?.packets ?? 0) >= (video(inbound)?.packetsReceived ?? Infinity) * 0.9, `Janus sent what Chromium received: ${JSON.stringify(sent)}`);
      assert.ok((sentVideo?.bitrateKbps ?? 0) > 0, JSON.stringify(sent));
      assert.ok((sentAudio?.packets ?? 0) > 0, JSON.stringify(sent));
      // Chromium asks for a keyframe until it has one, and Janus relays that…
      await waitUntil('a keyframe request arrives on our RTCP socket', () => keyframes.requests > 0, 10_000);
      // …and any later PLI of its viewers (at most one a second). Our gst-launch encoder cannot answer them,
      // so the viewer is cut off from every keyframe: it keeps asking until a request comes through.
      let before = -1;
      // First a quiet spell, so that no request of the start (Janus defers one that comes within a second of
      // the last) is counted as the viewer's.
      await waitUntil('no keyframe request for 2 s', async () => {
        const seen = keyframes.requests;
        await new Promise((resolve) => setTimeout(resolve, 2000));
        before = keyframes.requests;
        return before === seen;
      });
      videoEncoder.starveOfKeyframes(codec);
      await waitUntil("the viewer's keyframe request arrives through Janus", () => keyframes.requests > before, 20_000);
      videoEncoder.starveOfKeyframes(undefined);

      // A restarted encoder worker sends with another SSRC: Janus follows it and the viewer keeps decoding.
      await videoEncoder.stop();
      const restarted = await ForwardedEncoder.start(videoSpec, mountpoint.video.port);
      cleanups.push(() => restarted.stop());
      const decodedBefore = video(await peer.inboundRtp())?.framesDecoded ?? 0;
      const resumed = await peer.waitForInbound((i) => (video(i)?.framesDecoded ?? 0) > decodedBefore + 30, 20_000);
      assert.ok((video(resumed)?.framesDecoded ?? 0) > decodedBefore + 30, `decoding goes on after the SSRC change: ${JSON.stringify(resumed)}`);

      const hungUp = once(viewer, 'hangup');
      await viewer.hangup();
      await hungUp;
      await waitUntil('Janus counts no viewer', async () => (await admin.info(mountpoint.id)).viewers === 0);
      await viewer.detach();

      await admin.destroy(mountpoint.id);
      assert.ok(!(await admin.list()).some((m) => m.id === mountpoint.id), 'destroy removes the mountpoint from list');
      await session.destroy();
    });
  }

  test('errors carry Janus code, text and the request without its secrets', async () => {
    const { admin } = await connect();
    await assert.rejects(
      admin.create({ description: 'no key', video: { codec: 'VP8', port: 0 } }, 'wrong-key'),
      (err: unknown) =>
        err instanceof JanusError &&
        err.origin === 'plugin' &&
        err.code === 457 &&
        /wrong admin_key/.test(err.message) &&
        /streaming create/.test(err.message) &&
        !err.message.includes('wrong-key'),
    );
    await assert.rejects(admin.info(424242), (err: unknown) => err instanceof JanusError && err.code === 455 && !err.sessionGone);
    const unauthorized = JanusSession.connect({ url: janus.url, apiSecret: 'not-the-secret' });
    await assert.rejects(unauthorized, (err: unknown) => err instanceof JanusError && err.origin === 'core' && err.code === 403);
  });

  test('Janus killed with SIGKILL: the session reports it gone; after a restart the same mountpoint is provisioned again', async () => {
    const { session, admin } = await connect();
    const spec = { id: 4242, description: 'survives restarts', video: { codec: 'H264' as const, port: 0, rtcpPort: 0 } };
    const first: CreatedMountpoint = await admin.create(spec, janus.adminKey);
    assert.equal(first.id, 4242);
    const ports = { port: first.video!.port, rtcpPort: first.video!.rtcpPort! };

    const gone = once(session, 'gone') as Promise<[JanusError]>;
    await janus.kill();
    const [reason] = await Promise.race([gone, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no gone within 10 s')), 10_000))]);
    assert.ok(reason.sessionGone, reason.message);
    assert.ok(session.isGone);
    await assert.rejects(admin.list(), (err: unknown) => err instanceof JanusError && err.sessionGone);

    await janus.restart();
    const again = await connect();
    assert.ok(!(await again.admin.list()).some((m) => m.id === 4242), 'a restarted Janus has forgotten the mountpoint');
    const second = await again.admin.create({ ...spec, video: { ...spec.video, ...ports } }, janus.adminKey);
    assert.deepEqual(second, first, 'the same id and ports: forwarders and RTCP latches carry on unchanged');
    await again.admin.destroy(4242);
  });
});
