/**
 * The well-behaved client of the flood-fairness test, in its own process so that the flood the test
 * process generates cannot delay its timers: says hello, pings every `intervalMs` and records each pong's
 * round trip. On {cmd:'stop'} it sends {rtts, pings, pongs, errors, closeCode} over IPC and exits.
 */
import WebSocket from 'ws';

const url = process.argv[2]!;
const intervalMs = Number(process.argv[3] ?? 50);

const sent = new Map<number, { at: number; epoch: number }>();
/** [sent at (epoch ms), round trip ms] per pong. */
const rtts: [number, number][] = [];
let pings = 0;
let errors = 0;
let closeCode: number | null = null;

const ws = new WebSocket(url, { perMessageDeflate: false });
ws.on('error', () => undefined);
ws.on('close', (code) => {
  closeCode = code;
});
ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', peer_id: 'good', message_id: 'hello', data: {} })));
ws.on('message', (data) => {
  const message = JSON.parse(data.toString()) as { type: string; data?: { sequence?: number } };
  if (message.type === 'welcome') {
    process.send!({ ev: 'ready' });
    return;
  }
  if (message.type === 'error') errors++;
  if (message.type !== 'pong') return;
  const sequence = message.data?.sequence ?? -1;
  const at = sent.get(sequence);
  if (at === undefined) return;
  sent.delete(sequence);
  rtts.push([at.epoch, performance.now() - at.at]);
});

const timer = setInterval(() => {
  if (ws.readyState !== ws.OPEN) return;
  pings++;
  sent.set(pings, { at: performance.now(), epoch: Date.now() });
  ws.send(JSON.stringify({ type: 'ping', peer_id: 'good', message_id: `p${pings}`, data: { sequence: pings } }));
}, intervalMs);

process.on('message', (message: { cmd: string }) => {
  if (message.cmd !== 'stop') return;
  clearInterval(timer);
  // The last ping's pong may still be on its way.
  setTimeout(() => {
    process.send!({ ev: 'result', rtts, pings, pongs: rtts.length, errors, closeCode }, () => {
      ws.close();
      process.exit(0);
    });
  }, 300);
});
process.on('disconnect', () => process.exit(0));
