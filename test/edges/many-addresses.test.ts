import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.js';
import { WsPeer } from '../helpers/ws-peer.js';
import { GoodClient, RssWatch, assertUndisturbed } from './watch.js';

const PER_IP = 4;
const ADDRESSES = 50;
/** The good client (from 127.0.0.1) plus room for 40 addresses' worth: the last ten find the server full. */
const MAX_PEERS = 1 + 40 * PER_IP;

type Outcome = { peer: WsPeer; welcomed: true } | { peer: WsPeer; welcomed: false; details: string; close: number };

async function attempt(url: string, localAddress: string, peerId: string): Promise<Outcome> {
  const peer = await WsPeer.open(url, { localAddress });
  const id = peer.request('hello', { client_info: { edge: true } }, { peer_id: peerId });
  const reply = await peer.next((m) => m.reply_to === id || m.type === 'error');
  if (reply.type === 'welcome') return { peer, welcomed: true };
  assert.equal(reply.error?.code, 'SERVER_BUSY', `a refusal is SERVER_BUSY: ${JSON.stringify(reply)}`);
  return { peer, welcomed: false, details: String(reply.error.details), close: await peer.closed() };
}

describe('many clients from many addresses: the per-address and total limits hold', () => {
  let server: TestServer;
  const peers: WsPeer[] = [];
  before(async () => {
    server = await startServer(['--max-peers', String(MAX_PEERS), '--max-peers-per-ip', String(PER_IP)]);
  });
  after(async () => {
    for (const p of peers) p.close();
    await server.stop();
  });

  test(`${ADDRESSES} addresses × ${PER_IP + 1} connections: ${PER_IP} each until ${MAX_PEERS} in all, then SERVER_BUSY/1013`, { timeout: 60_000 }, async (t) => {
    const rss = new RssWatch(server.process.pid!);
    const good = await GoodClient.start(server.wsUrl);
    const byAddress = new Map<string, Outcome[]>();
    for (let a = 0; a < ADDRESSES; a++) {
      const address = `127.0.0.${10 + a}`;
      const outcomes: Outcome[] = [];
      for (let k = 0; k <= PER_IP; k++) {
        const outcome = await attempt(server.wsUrl, address, `${address}-${k}`);
        peers.push(outcome.peer);
        outcomes.push(outcome);
      }
      byAddress.set(address, outcomes);
    }
    // What the limits promise, attempt by attempt: the total is checked first, then the address.
    let open = 1;
    for (const [address, outcomes] of byAddress) {
      let fromAddress = 0;
      for (const [k, outcome] of outcomes.entries()) {
        const expected = open >= MAX_PEERS ? `max_peers=${MAX_PEERS}` : fromAddress >= PER_IP ? `max_peers_per_ip=${PER_IP}` : 'welcome';
        const got = outcome.welcomed ? 'welcome' : `${outcome.details} (close ${outcome.close})`;
        assert.equal(got, expected === 'welcome' ? expected : `${expected} (close 1013)`, `${address} attempt ${k + 1}`);
        if (outcome.welcomed) {
          open++;
          fromAddress++;
        }
      }
    }
    assert.equal(open, MAX_PEERS, 'the server filled up exactly');
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { connections: number };
    assert.equal(health.connections, MAX_PEERS, '/healthz counts every open connection');

    // A slot freed by one address is taken by another.
    const first = byAddress.get('127.0.0.10')!.find((o) => o.welcomed)!;
    first.peer.close();
    await first.peer.closed();
    await new Promise((r) => setTimeout(r, 200));
    const late = await attempt(server.wsUrl, `127.0.0.${10 + ADDRESSES - 1}`, 'late');
    peers.push(late.peer);
    assert.ok(late.welcomed, 'a freed slot can be taken from another address');

    // Long enough for the good client's pings to show a stall, if there was one.
    await new Promise((r) => setTimeout(r, 1000));
    t.diagnostic(assertUndisturbed(await good.stop(), 'good client while the server fills up'));
    t.diagnostic(rss.finish('many addresses'));
  });
});
