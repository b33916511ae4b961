/**
 * Page-side probes of the cursor tests, shared by the Chromium (playwright) and Firefox (puppeteer) ones. Each is
 * a self-contained function a browser runs: pass it to `page.evaluate`, `addInitScript` or `evaluateOnNewDocument`.
 */

/**
 * Bright pixels in the decoded video below the shrunk xterm (y ≥ 100): that part of the desktop is the black
 * root window, where X's cursor shows by its white outline. The whole part, not the pointer's spot: a frame
 * still showing the pointer where it was before would pass a check of the new spot alone.
 */
export function brightPixelsBelowTerminal(): number {
  const v = document.getElementById('video') as HTMLVideoElement;
  const canvas = Object.assign(document.createElement('canvas'), { width: v.videoWidth, height: v.videoHeight });
  const g = canvas.getContext('2d', { willReadFrequently: true })!;
  g.drawImage(v, 0, 0);
  const d = g.getImageData(0, 100, v.videoWidth, v.videoHeight - 100).data;
  let bright = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i]! + d[i + 1]! + d[i + 2]! > 360) bright++;
  return bright;
}

/** Init script: counts the `pointer` messages the page's WebSocket brings in `window.wsPointers.n` (none should: they take the data channel). */
export function countWebSocketPointers(): void {
  const Native = window.WebSocket;
  const counts = ((window as unknown as { wsPointers: { n: number } }).wsPointers = { n: 0 });
  window.WebSocket = class extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener('message', (e) => {
        if (typeof e.data === 'string' && (JSON.parse(e.data) as { type: string }).type === 'pointer') counts.n++;
      });
    }
  };
}

/** Init script: the page's hello leaves `cursor` out, as a client written before the capability (a seed client) does. */
export function helloWithoutCursor(): void {
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (this: WebSocket, data: string | ArrayBufferLike | Blob | ArrayBufferView) {
    const message = typeof data === 'string' ? (JSON.parse(data) as { type: string; data: { capabilities?: string[] } }) : null;
    if (message?.type !== 'hello') return send.call(this, data);
    message.data.capabilities = message.data.capabilities?.filter((c) => c !== 'cursor');
    return send.call(this, JSON.stringify(message));
  };
}
