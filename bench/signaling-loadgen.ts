/**
 * A load generator child for the signaling benchmark: N WebSocket clients of one server, each says
 * hello, then pings once a second (random phase) and measures the pong's round trip; `movers` of them
 * also send 60 Hz mouse moves. Driven over IPC: {cmd:'connect', n} → {ev:'connected', ok, failed};
 * {cmd:'run', movers, warmupMs, measureMs} → {ev:'result', rtts, …} after the window; {cmd:'close'}
 * → {ev:'closed'}; {cmd:'exit'}.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';

const url = process.argv[2]!;
const tag = process.argv[3] ?? String(process.pid);

interface Conn {
  ws: WebSocket;
  seq: number;
  sent: Map<number, number>;
}

const conns: Conn[] = [];
let recording = false;
let rtts: number[] = [];
let pongs = 0;
let errors = 0;
let welcomes = 0;
let lostPongs = 0;

function open(i: number): Promise<Conn | null> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const conn: Conn = { ws, seq: 0, sent: new Map() };
    let settled = false;
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(ok ? conn : null);
    };
    const timer = setTimeout(() => {
      ws.terminate();
      done(false);
    }, 20_000);
    ws.on('error', () => done(false));
    ws.on('close', () => done(false));
    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'hello', peer_id: `${tag}-${i}`, message_id: 'h', timestamp: Date.now(), data: { client_info: { bench: true } } }));
    });
    ws.on('message', (data) => {
      const text = data.toString();
      // Cheap type sniffing first: the generator must stay lighter than the server it loads.
      if (text.includes('"type":"pong"')) {
        const m = JSON.parse(text) as { data: { sequence?: number } };
        const seq = m.data.sequence;
        const at = seq === undefined ? undefined : conn.sent.get(seq);
        if (at !== undefined) {
          conn.sent.delete(seq!);
          pongs++;
          if (recording) rtts.push(performance.now() - at);
        }
      } else if (text.includes('"type":"welcome"')) {
        welcomes++;
        done(true);
      } else if (text.includes('"type":"error"')) {
        errors++;
      }
    });
  });
}

let pingTimers: NodeJS.Timeout[] = [];
let moveTimers: NodeJS.Timeout[] = [];

function ping(c: Conn): void {
  if (c.ws.readyState !== WebSocket.OPEN) return;
  const seq = ++c.seq;
  if (c.sent.size > 5) {
    lostPongs += c.sent.size;
    c.sent.clear();
  }
  c.sent.set(seq, performance.now());
  c.ws.send(JSON.stringify({ type: 'ping', peer_id: 'load', message_id: `p${seq}`, timestamp: Date.now(), data: { sequence: seq } }));
}

function move(c: Conn, k: number): void {
  if (c.ws.readyState !== WebSocket.OPEN) return;
  c.ws.send(JSON.stringify({ type: 'mouse-move', peer_id: 'load', message_id: `m${k}`, timestamp: Date.now(), data: { x: k % 1280, y: (k * 7) % 720 } }));
}

process.on('message', (msg: { cmd: string; n?: number; movers?: number; warmupMs?: number; measureMs?: number; pingMs?: number }) => {
  void (async () => {
    if (msg.cmd === 'connect') {
      const n = msg.n ?? 0;
      let next = conns.length;
      const end = conns.length + n;
      let failed = 0;
      const worker = async (): Promise<void> => {
        while (next < end) {
          const i = next++;
          const c = await open(i);
          if (c) conns.push(c);
          else failed++;
        }
      };
      await Promise.all(Array.from({ length: 100 }, worker));
      process.send!({ ev: 'connected', ok: conns.length, failed });
    } else if (msg.cmd === 'run') {
      const pingMs = msg.pingMs ?? 1000;
      rtts = [];
      pongs = 0;
      errors = 0;
      lostPongs = 0;
      for (const c of conns) {
        const phase = Math.random() * pingMs;
        const t = setTimeout(() => {
          ping(c);
          pingTimers.push(setInterval(() => ping(c), pingMs));
        }, phase);
        pingTimers.push(t);
      }
      let k = 0;
      for (const c of conns.slice(0, msg.movers ?? 0)) {
        moveTimers.push(setInterval(() => move(c, k++), 1000 / 60));
      }
      await new Promise((r) => setTimeout(r, msg.warmupMs ?? 2000));
      const lag = monitorEventLoopDelay({ resolution: 10 });
      lag.enable();
      recording = true;
      const before = { pongs, errors, lostPongs };
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, msg.measureMs ?? 10_000));
      recording = false;
      lag.disable();
      const seconds = (performance.now() - t0) / 1000;
      for (const t of [...pingTimers, ...moveTimers]) clearInterval(t);
      pingTimers = [];
      moveTimers = [];
      process.send!({
        ev: 'result',
        rtts,
        seconds,
        pongs: pongs - before.pongs,
        errors: errors - before.errors,
        lostPongs: lostPongs - before.lostPongs,
        loopDelayP99Ms: lag.percentile(99) / 1e6,
        loopDelayMeanMs: lag.mean / 1e6,
      });
    } else if (msg.cmd === 'close') {
      for (const c of conns.splice(0)) c.ws.terminate();
      process.send!({ ev: 'closed' });
    } else if (msg.cmd === 'exit') {
      for (const c of conns) c.ws.terminate();
      process.exit(0);
    }
  })();
});
process.on('disconnect', () => process.exit(0));
process.send!({ ev: 'ready', welcomes });
