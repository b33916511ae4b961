import type { BrowserPeer } from './chromium.js';
import type { WsPeer } from './ws-peer.js';

/**
 * Negotiates a Chromium peer through the real signaling: request-offer over `peer`, the browser's answer
 * and candidates back, until the browser decodes video (or audio packets arrive, for audio-only offers).
 */
export async function playOverSignaling(peer: WsPeer, browser: BrowserPeer, data: Record<string, unknown> = {}, timeoutMs = 20_000): Promise<void> {
  const offer = await peer.reply(peer.request('request-offer', data));
  if (offer.type !== 'offer') throw new Error(`no offer: ${JSON.stringify(offer)}`);
  const answer = await browser.answer(offer.data.sdp.sdp);
  peer.request('answer', { sdp: { type: 'answer', sdp: answer } });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const candidate of await browser.takeCandidates()) peer.request('ice-candidate', { candidate });
    const inbound = await browser.inboundRtp();
    if (inbound.some((r) => (r.kind === 'video' ? (r.framesDecoded ?? 0) > 0 : r.packetsReceived > 0))) return;
    if (Date.now() > deadline) throw new Error(`no media within ${timeoutMs} ms: ${JSON.stringify(inbound)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
