/**
 * A stand-in for the node that owns a desktop, in a process of its own so that a test can SIGKILL it:
 * a `ws` server on the host given as argv[2] that echoes every frame verbatim, with a few commands
 * (JSON text frames with `cmd`) to close with a code or to flood the client. It prints its port, then one
 * JSON line per event (connection with its headers, close, buffered amount) on stdout.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

const host = process.argv[2] ?? '127.0.0.2';
const report = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);

interface Command {
  cmd?: string;
  code?: number;
  reason?: string;
  bytes?: number;
  frame?: number;
}

function flood(ws: WebSocket, bytes: number, frame: number): void {
  let sent = 0;
  let n = 0;
  // Numbered frames, so the far end can check that every one arrives, in order; sent without waiting, so
  // that whatever the relay does not take piles up here, where the test can see it.
  while (sent < bytes) {
    const head = `${JSON.stringify({ n: n++ })}`;
    ws.send(head + ' '.repeat(frame - head.length));
    sent += frame;
  }
  report({ event: 'flooded', frames: n, buffered: ws.bufferedAmount });
}

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (protocols) => (protocols.has('streamgate') ? 'streamgate' : false) });
const server = createServer((_req, res) => res.writeHead(404).end());
server.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => {
    report({ event: 'connection', url: req.url, headers: req.headers, protocol: ws.protocol });
    ws.on('message', (data, isBinary) => {
      let command: Command = {};
      if (!isBinary) {
        try {
          command = JSON.parse(data.toString()) as Command;
        } catch {
          // Not a command: echoed like everything else.
        }
      }
      if (command.cmd === 'close') ws.close(command.code, command.reason);
      else if (command.cmd === 'flood') flood(ws, command.bytes ?? 0, command.frame ?? 65536);
      else if (command.cmd === 'buffered') report({ event: 'buffered', amount: ws.bufferedAmount });
      else ws.send(data, { binary: isBinary });
    });
    ws.on('close', (code, reason) => report({ event: 'close', code, reason: reason.toString() }));
  });
});
server.listen(0, host, () => report({ event: 'listening', port: (server.address() as AddressInfo).port }));
