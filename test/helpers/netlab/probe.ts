/**
 * Traffic for measuring the lab's links (there is no ping or iperf on this machine), run inside a
 * namespace as `node probe.js <mode> …`. Each mode prints one JSON line when it is ready (servers)
 * or done (clients):
 *
 *   echo <address> <port>                       UDP echo server
 *   ping <address> <port> <count> <intervalMs>  numbered UDP probes → {sent, received, rttsMs, outOfOrder}
 *   sink <address> <port>                       TCP server that reads one connection to its end → {bytes, seconds}
 *   source <address> <port> <seconds>           TCP client that writes as fast as it can for so long
 *   flood <address> <port> <kbit/s> <seconds>   UDP datagrams of 1200 bytes at a steady rate, nobody answering
 */
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';

export interface PingResult {
  sent: number;
  received: number;
  /** Round-trip times of the probes that came back, in the order they were sent. */
  rttsMs: number[];
  /** Probes that came back after one sent later than them. */
  outOfOrder: number;
}

export interface SinkResult {
  bytes: number;
  /** From the first byte to the end of the connection. */
  seconds: number;
}

const print = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};

function echo(address: string, port: number): void {
  const socket = createSocket('udp4');
  socket.on('message', (message, from) => socket.send(message, from.port, from.address));
  socket.bind(port, address, () => print({ ready: true }));
}

function ping(address: string, port: number, count: number, intervalMs: number): void {
  const socket = createSocket('udp4');
  const sentAt: number[] = [];
  const rtts = new Map<number, number>();
  let highest = -1;
  let outOfOrder = 0;
  socket.on('message', (message) => {
    const seq = message.readUInt32BE(0);
    if (rtts.has(seq) || sentAt[seq] === undefined) return;
    rtts.set(seq, performance.now() - sentAt[seq]!);
    if (seq < highest) outOfOrder++;
    highest = Math.max(highest, seq);
  });
  socket.bind(0, () => {
    let seq = 0;
    const payload = Buffer.alloc(64);
    const timer = setInterval(() => {
      payload.writeUInt32BE(seq, 0);
      sentAt[seq] = performance.now();
      socket.send(payload, port, address);
      if (++seq < count) return;
      clearInterval(timer);
      // Late answers of the slowest profile (a second-deep queue) still count.
      setTimeout(() => {
        const result: PingResult = {
          sent: count,
          received: rtts.size,
          rttsMs: [...rtts.entries()].sort((a, b) => a[0] - b[0]).map(([, rtt]) => rtt),
          outOfOrder,
        };
        print(result);
        socket.close();
      }, 3000);
    }, intervalMs);
  });
}

function sink(address: string, port: number): void {
  const server = createServer((socket) => {
    let bytes = 0;
    let first = 0;
    socket.on('data', (chunk) => {
      first ||= performance.now();
      bytes += chunk.length;
    });
    socket.on('end', () => {
      const result: SinkResult = { bytes, seconds: (performance.now() - first) / 1000 };
      print(result);
      server.close();
    });
  });
  server.listen(port, address, () => print({ ready: true }));
}

function source(address: string, port: number, seconds: number): void {
  const socket = connect(port, address, () => {
    const chunk = Buffer.alloc(64 * 1024);
    const until = performance.now() + seconds * 1000;
    const write = (): void => {
      while (performance.now() < until) {
        if (!socket.write(chunk)) {
          socket.once('drain', write);
          return;
        }
      }
      socket.end(() => print({ done: true }));
    };
    write();
  });
}

function flood(address: string, port: number, kbitPerSecond: number, seconds: number): void {
  const socket = createSocket('udp4');
  const payload = Buffer.alloc(1200);
  const start = performance.now();
  let sent = 0;
  // Every 5 ms, as many datagrams as keep the total on the rate since the start.
  const timer = setInterval(() => {
    const elapsed = (performance.now() - start) / 1000;
    if (elapsed >= seconds) {
      clearInterval(timer);
      socket.close(() => print({ sent }));
      return;
    }
    while (sent * payload.length * 8 < elapsed * kbitPerSecond * 1000) {
      socket.send(payload, port, address);
      sent++;
    }
  }, 5);
}

const [mode, address = '', portText = '', ...rest] = process.argv.slice(2);
const port = Number(portText);
if (!address || !Number.isInteger(port)) throw new Error(`usage: probe.js <mode> <address> <port> …, got ${process.argv.slice(2).join(' ')}`);
if (mode === 'echo') echo(address, port);
else if (mode === 'ping') ping(address, port, Number(rest[0] ?? 100), Number(rest[1] ?? 10));
else if (mode === 'sink') sink(address, port);
else if (mode === 'source') source(address, port, Number(rest[0] ?? 3));
else if (mode === 'flood') flood(address, port, Number(rest[0] ?? 1000), Number(rest[1] ?? 3));
else throw new Error(`unknown probe mode ${mode}`);
