/**
 * The baseline for the signaling benchmark: a bare `ws` server with no protocol logic beyond what the
 * load needs. It parses every frame as JSON (a real server must), answers hello with a small welcome,
 * ping with a pong of the same shape as Streamgate's, and input with the same FORBIDDEN error
 * Streamgate sends for `--source test` — so both servers read and write the same messages.
 * Run as a child: prints nothing, reports {ev:'ready', port} over IPC.
 */
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WebSocketServer } from 'ws';

let counter = 0;
const http = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"status":"ok"}');
});
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1024 * 1024 });
http.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)));

wss.on('connection', (ws) => {
  ws.on('error', () => undefined);
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    let m: { type?: string; peer_id?: string | number; message_id?: string; timestamp?: number; data?: Record<string, unknown> };
    try {
      m = JSON.parse(data.toString()) as typeof m;
    } catch {
      return;
    }
    const envelope = { peer_id: m.peer_id, message_id: `s${++counter}`, timestamp: Date.now(), reply_to: m.message_id };
    if (m.type === 'ping') {
      ws.send(JSON.stringify({ type: 'pong', data: { ping_timestamp: m.timestamp, server_timestamp: Date.now(), sequence: m.data?.sequence }, ...envelope }));
    } else if (m.type === 'hello') {
      ws.send(JSON.stringify({ type: 'welcome', data: { peer_id: m.peer_id, session_id: `b${counter}`, protocol_version: '1.0', session_config: { heartbeat_interval: 30000 } }, ...envelope }));
    } else if (m.type === 'mouse-move' || m.type === 'mouse-click' || m.type === 'key-press') {
      ws.send(JSON.stringify({ type: 'error', error: { code: 'FORBIDDEN', message: 'The "test" source takes no input.', details: 'source' }, ...envelope }));
    }
  });
});

http.listen(0, '127.0.0.1', () => {
  const { port } = http.address() as { port: number };
  process.send?.({ ev: 'ready', port });
});
// Event-loop delay measured as Streamgate's /metrics does it (prom-client: monitorEventLoopDelay, 10 ms).
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
process.on('message', (m: { cmd?: string }) => {
  if (m.cmd === 'exit') process.exit(0);
  if (m.cmd === 'lag') {
    process.send?.({ ev: 'lag', p99: lag.percentile(99) / 1e9, max: lag.max / 1e9 });
    lag.reset();
  }
});
process.on('disconnect', () => process.exit(0));
