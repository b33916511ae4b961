import WebSocket from 'ws';

export type Json = Record<string, any>;

/**
 * A raw protocol peer for conformance tests: sends exactly what a test says and records everything
 * that comes back, so tests can assert on the wire format itself.
 */
export class WsPeer {
  readonly received: Json[] = [];
  closeCode: number | null = null;
  closeReason = '';
  private waiters: { predicate: (m: Json) => boolean; resolve: (m: Json) => void }[] = [];
  private closeWaiters: ((code: number) => void)[] = [];
  private counter = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as Json;
      this.received.push(message);
      this.waiters = this.waiters.filter((w) => {
        if (!w.predicate(message)) return true;
        w.resolve(message);
        return false;
      });
    });
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      for (const w of this.closeWaiters) w(code);
    });
    ws.on('error', () => undefined);
  }

  static open(url: string, options: WebSocket.ClientOptions = {}, protocols?: string[]): Promise<WsPeer> {
    return new Promise((resolve, reject) => {
      const ws = protocols ? new WebSocket(url, protocols, options) : new WebSocket(url, options);
      const peer = new WsPeer(ws);
      ws.once('open', () => resolve(peer));
      ws.once('error', reject);
    });
  }

  send(message: Json | string | Buffer, options: { binary?: boolean } = {}): void {
    this.ws.send(typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message), options);
  }

  /** Sends `{type, data}` with a fresh message_id and returns that id. */
  request(type: string, data: Json = {}, extra: Json = {}): string {
    const message_id = `t${++this.counter}`;
    this.send({ type, peer_id: 'test', message_id, timestamp: Date.now(), data, ...extra });
    return message_id;
  }

  next(predicate: (m: Json) => boolean = () => true, timeoutMs = 5000): Promise<Json> {
    const found = this.received.find(predicate);
    if (found) {
      this.received.splice(this.received.indexOf(found), 1);
      return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.received).slice(0, 500)}`)), timeoutMs);
      this.waiters.push({
        predicate,
        resolve: (m) => {
          clearTimeout(timer);
          this.received.splice(this.received.indexOf(m), 1);
          resolve(m);
        },
      });
    });
  }

  reply(id: string, timeoutMs?: number): Promise<Json> {
    return this.next((m) => m.reply_to === id, timeoutMs);
  }

  async hello(data: Json = {}, peerId: string | number = 'test'): Promise<Json> {
    const id = `hello${++this.counter}`;
    this.send({ type: 'hello', peer_id: peerId, message_id: id, timestamp: Date.now(), data });
    return this.reply(id);
  }

  closed(timeoutMs = 5000): Promise<number> {
    if (this.closeCode !== null) return Promise.resolve(this.closeCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not closed within ${timeoutMs} ms`)), timeoutMs);
      this.closeWaiters.push((code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  close(): void {
    this.ws.close();
  }
}
