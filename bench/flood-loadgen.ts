/**
 * An abusive client for the flood and soak benchmarks: N WebSocket connections that write malformed
 * frames as fast as TCP takes them. The upgrade is done by hand on a raw socket, and the frames are
 * prebuilt (masked with a zero key, which RFC 6455 allows), so the generator spends its time in the
 * kernel's write path rather than framing — it stays lighter than the server it floods. What the server
 * sends back is read and thrown away, so the server never sees a slow consumer. A connection the server
 * closes (persistent rate-limit abuse) is replaced at once, as an attacker would.
 * Driven over IPC: {cmd:'start', n} → {ev:'started'}; {cmd:'stop'} → {ev:'stopped', …figures}; {cmd:'exit'}.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

const url = new URL(process.argv[2]!);

/** The malformed messages, in rotation: broken JSON, not an object, no type, an unknown type, binary. */
const PAYLOADS: { text: boolean; data: Buffer }[] = [
  { text: true, data: Buffer.from('{"type":"ping","data":{') },
  { text: true, data: Buffer.from('[1,2,3]') },
  { text: true, data: Buffer.from('{"data":{"x":1}}') },
  { text: true, data: Buffer.from('{"type":"no-such-type","message_id":"f","data":{}}') },
  { text: true, data: Buffer.from(`{"type":"mouse-move","data":{"x":"${'9'.repeat(200)}","y":1}}`) },
  { text: false, data: randomBytes(64) },
];

/** One client frame: FIN, opcode, MASK bit with a zero key (so the payload goes out as is). */
function frame(text: boolean, payload: Buffer): Buffer {
  const length = payload.length;
  const header = length < 126 ? Buffer.from([text ? 0x81 : 0x82, 0x80 | length]) : Buffer.from([text ? 0x81 : 0x82, 0x80 | 126, length >> 8, length & 0xff]);
  return Buffer.concat([header, Buffer.alloc(4), payload]);
}

/** ~64 KiB of frames, written again and again. */
const CHUNK = (() => {
  const frames: Buffer[] = [];
  let bytes = 0;
  for (let i = 0; bytes < 64 * 1024; i++) {
    const p = PAYLOADS[i % PAYLOADS.length]!;
    const f = frame(p.text, p.data);
    frames.push(f);
    bytes += f.length;
  }
  return { buffer: Buffer.concat(frames), frames: frames.length };
})();

let running = false;
let bytesSent = 0;
let framesSent = 0;
let connects = 0;
let serverCloses = 0;
let refused = 0;
const sockets = new Set<Socket>();

function pump(socket: Socket): void {
  while (running && !socket.destroyed) {
    bytesSent += CHUNK.buffer.length;
    framesSent += CHUNK.frames;
    if (!socket.write(CHUNK.buffer)) {
      socket.once('drain', () => pump(socket));
      return;
    }
  }
}

function open(): void {
  if (!running) return;
  const socket = connect({ host: url.hostname, port: Number(url.port) });
  sockets.add(socket);
  connects++;
  let upgraded = false;
  let head = '';
  socket.setNoDelay(true);
  socket.on('error', () => undefined);
  socket.on('connect', () => {
    socket.write(
      `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
    );
  });
  socket.on('data', (chunk: Buffer) => {
    if (upgraded) return;
    head += chunk.toString('latin1');
    if (!head.includes('\r\n\r\n')) return;
    upgraded = true;
    if (!head.startsWith('HTTP/1.1 101')) {
      refused++;
      socket.destroy();
      return;
    }
    pump(socket);
  });
  socket.on('close', () => {
    sockets.delete(socket);
    if (!running) return;
    serverCloses++;
    // Back at once, but not in a tight loop if the server refuses outright.
    setTimeout(open, upgraded ? 0 : 100);
  });
}

process.on('message', (msg: { cmd: string; n?: number }) => {
  if (msg.cmd === 'start') {
    running = true;
    bytesSent = 0;
    framesSent = 0;
    connects = 0;
    serverCloses = 0;
    refused = 0;
    for (let i = 0; i < (msg.n ?? 16); i++) open();
    process.send!({ ev: 'started' });
  } else if (msg.cmd === 'stop') {
    running = false;
    for (const s of sockets) s.destroy();
    process.send!({ ev: 'stopped', bytesSent, framesSent, connects, serverCloses, refused });
  } else if (msg.cmd === 'exit') {
    running = false;
    for (const s of sockets) s.destroy();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send!({ ev: 'ready' });
