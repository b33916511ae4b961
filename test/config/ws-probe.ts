/**
 * Run as `node ws-probe.js <ws url>` (inside a test network namespace): connects, says hello, and prints one
 * JSON line: whether it was welcomed or refused, with the error code and the close code of a refusal.
 */
import { WsPeer } from '../helpers/ws-peer.js';

const url = process.argv[2];
if (!url) throw new Error('usage: ws-probe <ws url>');
const peer = await WsPeer.open(url);
peer.request('hello', {});
const first = await peer.next((m) => m.type === 'welcome' || m.type === 'error');
const closeCode = first.type === 'error' ? await peer.closed() : null;
process.stdout.write(`${JSON.stringify({ type: first.type, code: first.error?.code ?? null, closeCode })}\n`);
peer.close();
process.exit(0);
