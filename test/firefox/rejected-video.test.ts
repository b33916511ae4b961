/**
 * A plain client (no SDK) in Firefox ESR without H.264 asks for H.264 only: Firefox answers `m=video 0`. The
 * server applies the answer all the same and replies UNSUPPORTED_CODEC naming the video section, and the
 * sections the browser kept still work: audio plays and the input data channel opens. Audio's section leads the
 * BUNDLE group, so the rejected video does not take the group's transport with it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { inboundRtp, type FirefoxBrowser } from '../helpers/firefox.js';
import type { TestServer } from '../helpers/server.js';
import { startFirefoxRig, stopFirefoxRig, type FirefoxRig } from './firefox-rig.js';

let server: TestServer;
let firefox: FirefoxBrowser;
let rig: FirefoxRig | undefined;

before(async () => {
  rig = await startFirefoxRig();
  ({ server, firefox } = rig);
});

after(() => stopFirefoxRig(rig));

interface Outcome {
  answerReply: { type: string; error?: { code: string; message: string; details?: string } } | null;
  answerSdp: string;
  channelOpen: boolean;
}

test('H.264 only, to Firefox without it: m=video 0 gets UNSUPPORTED_CODEC, audio and the input channel work', async () => {
  const page = await firefox.newPage();
  try {
    // Same origin as the WebSocket (any path: a 404 page is enough).
    await page.goto(`${server.url}/rejected-video-test`);
    const outcome = await page.evaluate(async (wsUrl: string): Promise<Outcome> => {
      const ws = new WebSocket(wsUrl);
      let id = 0;
      const send = (type: string, data: unknown): string => {
        const message_id = `t${++id}`;
        ws.send(JSON.stringify({ type, peer_id: 1, message_id, timestamp: Date.now(), data }));
        return message_id;
      };
      const pc = new RTCPeerConnection();
      let channelOpen = false;
      pc.ondatachannel = (event): void => {
        event.channel.onopen = (): void => void (channelOpen = true);
        if (event.channel.readyState === 'open') channelOpen = true;
      };
      pc.onicecandidate = (event): void => {
        if (event.candidate) send('ice-candidate', { candidate: event.candidate.toJSON() });
      };
      let answerId = '';
      let answerReply: Outcome['answerReply'] = null;
      let answerSdp = '';
      ws.onmessage = async (event): Promise<void> => {
        const message = JSON.parse(event.data as string);
        if (message.type === 'welcome') send('request-offer', { constraints: { video: true, audio: true }, codec_preferences: ['H264'] });
        if (message.type === 'offer') {
          await pc.setRemoteDescription(message.data.sdp);
          const answer = await pc.createAnswer();
          await pc.setLocalDescription(answer);
          answerSdp = answer.sdp ?? '';
          answerId = send('answer', { sdp: { type: 'answer', sdp: answerSdp } });
        }
        if (message.type === 'ice-candidate' && message.data.candidate.candidate) await pc.addIceCandidate(message.data.candidate).catch(() => undefined);
        if (answerId && message.reply_to === answerId) answerReply = message;
      };
      ws.onopen = (): void => void send('hello', { capabilities: ['webrtc', 'video', 'audio', 'input-events'] });
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && !(answerReply && channelOpen)) await new Promise((r) => setTimeout(r, 100));
      return { answerReply, answerSdp, channelOpen };
    }, `${server.url.replace(/^http/, 'ws')}/ws`);

    assert.match(outcome.answerSdp, /^m=video 0 /m, `Firefox refuses H.264 here:\n${outcome.answerSdp}`);
    assert.equal(outcome.answerReply?.type, 'error', `the reply to the answer: ${JSON.stringify(outcome.answerReply)}`);
    assert.equal(outcome.answerReply?.error?.code, 'UNSUPPORTED_CODEC');
    assert.match(outcome.answerReply?.error?.details ?? '', /video \(mid \d+, offered H264\)/);
    assert.ok(outcome.channelOpen, 'the input data channel opened');
    const deadline = Date.now() + 15_000;
    let audio = 0;
    while (Date.now() < deadline && audio === 0) {
      audio = (await inboundRtp(page)).find((entry) => entry.kind === 'audio')?.packetsReceived ?? 0;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(audio > 0, 'audio packets arrive over the BUNDLE transport');
  } finally {
    await page.close();
  }
});
