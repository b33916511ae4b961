/** An in-memory WebSocket the test drives (open, receive, drop) and the welcome a server would send: for the client's unit tests. */
import type { WebSocketLike } from '../../src/client/index.js';

export class MemorySocket implements WebSocketLike {
  static all: MemorySocket[] = [];
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {
    MemorySocket.all.push(this);
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code = 1000, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    queueMicrotask(() => this.onclose?.({ code, reason }));
  }
  // Test side
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(message: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  drop(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  ofType(type: string): Record<string, unknown>[] {
    return this.sent.filter((m) => m.type === type);
  }
}

let serverSeq = 0;
export function welcome(sessionId: string, token: string, resumed = false): Record<string, unknown> {
  return {
    type: 'welcome',
    message_id: `s${++serverSeq}`,
    timestamp: Date.now(),
    data: {
      session_id: sessionId,
      resume_token: token,
      resumed,
      protocol_version: '1.0',
      server_info: { name: 'streamgate', version: 'test' },
      session_config: {
        heartbeat_interval: 30000,
        ice_servers: [],
        max_message_size: 65536,
        input_enabled: true,
        liveness_timeout: 90000,
        codecs: ['H264', 'VP8'],
        source: 'test',
      },
    },
  };
}
