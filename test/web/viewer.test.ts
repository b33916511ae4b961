/**
 * The viewer as a person uses it: headless Chromium opens `/` of the real server
 * (`node dist/src/main.js --source test`), which serves dist/web. Checked with the browser's own
 * measurements (getStats `framesDecoded`) and a screenshot; then the server is killed and restarted
 * and the page must come back to live video by itself.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { gotoViewer } from '../helpers/viewer-page.js';
import type { StreamgateClient } from '../../src/client/index.js';

declare global {
  interface Window {
    /** The viewer's test hook (web/main.ts). */
    streamgate: { client: StreamgateClient };
  }
}

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const consoleLines: string[] = [];
/** Set when the server reports no media pipeline at all (/healthz): the live-video tests say so and skip. */

/** What the page reports about itself: state, status line, and the browser's inbound video stats. */
interface ViewerProbe {
  state: string;
  status: string;
  playing: boolean;
  framesDecoded: number;
  codec: string | null;
  width: number;
}

function probe(p: Page = page): Promise<ViewerProbe> {
  return p.evaluate(async () => {
    const pc = window.streamgate.client.peerConnection;
    let framesDecoded = 0;
    let codec: string | null = null;
    let width = 0;
    if (pc) {
      const report = await pc.getStats();
      report.forEach((r: Record<string, unknown>) => {
        if (r.type === 'inbound-rtp' && r.kind === 'video') {
          framesDecoded = (r.framesDecoded as number) ?? 0;
          width = (r.frameWidth as number) ?? 0;
          const c = report.get(r.codecId as string) as { mimeType?: string } | undefined;
          codec = c?.mimeType ?? null;
        }
      });
    }
    return {
      state: document.body.dataset.state ?? '',
      status: document.getElementById('status-text')?.textContent ?? '',
      playing: document.body.classList.contains('playing'),
      framesDecoded,
      codec,
      width,
    };
  });
}

/** Polls the page until `ok` holds; fails with the last probe and the page's console. */
async function waitUntil(what: string, ok: (p: ViewerProbe) => boolean, timeoutMs = 30_000, p: Page = page): Promise<ViewerProbe> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe(p);
  while (!ok(last)) {
    if (Date.now() > deadline) {
      assert.fail(`${what}: not reached within ${timeoutMs} ms; last: ${JSON.stringify(last)}\nconsole:\n${consoleLines.slice(-20).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 150));
    last = await probe(p);
  }
  return last;
}

const liveVideo = (p: ViewerProbe): boolean => p.state === 'live' && p.playing && p.framesDecoded > 0 && p.width > 0;

async function openViewer(query = ''): Promise<Page> {
  const p = await context.newPage();
  p.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
  p.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
  await gotoViewer(p, `${server.url}/${query}`);
  return p;
}

before(async () => {
  server = await startServer();
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await openViewer('?stats=1');
});

after(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  await server?.stop();
});

test('the viewer at / connects by itself and plays live video (the browser decodes frames)', async () => {
  const p = await waitUntil('live video', liveVideo);
  assert.ok(p.width > 0, 'the browser knows the frame size');
  assert.match(p.status, /^Live/);
  const before = p.framesDecoded;
  const later = await waitUntil('frames keep coming', (q) => q.framesDecoded > before + 10);
  assert.ok(later.framesDecoded > before);
});

test('the stats overlay shows the server\'s view of this viewer: estimate, rung, loss, round trip and send rate', async (t) => {
  await waitUntil('live video', liveVideo);
  // From stats → webrtc.video.congestion, asked once a second while the overlay is open. The round trip needs
  // the browser's first receiver report, the send rate the pacer's first second.
  const figures = ['c-estimate', 'c-rung', 'c-loss', 'c-rtt', 'c-send'];
  try {
    await page.waitForFunction(
      (ids) => ids.every((id) => (document.getElementById(id)?.textContent ?? '–') !== '–'),
      figures,
      { timeout: 20_000 },
    );
  } finally {
    t.diagnostic(`server's view: ${JSON.stringify(await page.evaluate((ids) => ids.map((id) => document.getElementById(id)?.textContent), figures))}`);
  }
  const [estimate, rung, loss, rtt, send] = await page.evaluate((ids) => ids.map((id) => document.getElementById(id)!.textContent ?? ''), figures);
  assert.match(estimate!, /^\d+(\.\d)? (kbit|Mbit)\/s \((twcc|remb|none)\)$/);
  assert.match(rung!, /^(full|reduced|small)\b/);
  assert.match(loss!, /^\d+\.\d %$/);
  assert.match(rtt!, /^\d+ ms$/);
  assert.match(send!, /^\d+(\.\d)? (kbit|Mbit)\/s$/);
});

test('a screenshot shows the stream and the stats overlay over it', async (t) => {
  await waitUntil('live video', liveVideo);
  // The overlay fills in from the browser's getStats once a second.
  await page.waitForFunction(() => /\d+ fps/.test(document.getElementById('s-fps')?.textContent ?? ''), null, { timeout: 15_000 });
  await page.waitForFunction(() => /Mbit|kbit/.test(document.getElementById('s-bitrate')?.textContent ?? ''), null, { timeout: 15_000 });
  const overlay = await page.evaluate(() => ({
    res: document.getElementById('s-res')!.textContent,
    fps: document.getElementById('s-fps')!.textContent,
    bitrate: document.getElementById('s-bitrate')!.textContent,
    rtt: document.getElementById('s-rtt')!.textContent,
    loss: document.getElementById('s-loss')!.textContent,
    codec: document.getElementById('s-codec')!.textContent,
  }));
  assert.match(overlay.res ?? '', /^\d+ × \d+$/);
  assert.match(overlay.rtt ?? '', /ms/);
  assert.match(overlay.loss ?? '', /%/);
  assert.match(overlay.codec ?? '', /H264|VP8/);

  const png = await page.screenshot();
  const file = join(tmpdir(), 'streamgate-viewer-live.png');
  await writeFile(file, png);
  t.diagnostic(`screenshot: ${file}; overlay: ${JSON.stringify(overlay)}`);

  // Read the screenshot back in the page (the browser decodes the PNG) and compare it with the
  // video's own current frame: the picture must be there, and the overlay drawn over it.
  const seen = await page.evaluate(async (dataUrl) => {
    const img = new Image();
    img.src = dataUrl;
    await img.decode();
    const shot = document.createElement('canvas');
    shot.width = img.width;
    shot.height = img.height;
    const sc = shot.getContext('2d')!;
    sc.drawImage(img, 0, 0);
    const video = document.getElementById('video') as HTMLVideoElement;
    const vr = video.getBoundingClientRect();
    // The displayed picture (object-fit: contain) inside the element.
    const scale = Math.min(vr.width / video.videoWidth, vr.height / video.videoHeight);
    const pw = video.videoWidth * scale;
    const ph = video.videoHeight * scale;
    const pl = vr.left + (vr.width - pw) / 2;
    const pt = vr.top + (vr.height - ph) / 2;
    const frame = document.createElement('canvas');
    frame.width = Math.round(vr.width);
    frame.height = Math.round(vr.height);
    const fc = frame.getContext('2d')!;
    fc.drawImage(video, pl - vr.left, pt - vr.top, pw, ph);
    const px = (c: CanvasRenderingContext2D, x: number, y: number): number[] => [...c.getImageData(Math.round(x), Math.round(y), 1, 1).data].slice(0, 3);
    // Colours along a line through the middle of the picture, as seen in the screenshot.
    const line: string[] = [];
    for (let i = 0; i < 32; i++) {
      const [r, g, b] = px(sc, pl + ((i + 0.5) / 32) * pw, pt + ph * 0.4);
      line.push(`${r! >> 5},${g! >> 5},${b! >> 5}`);
    }
    // Inside the stats card: the screenshot against the bare frame at the same places.
    const card = document.getElementById('stats')!.getBoundingClientRect();
    let diff = 0;
    let n = 0;
    for (let y = card.top + 4; y < card.bottom - 4; y += 6) {
      for (let x = card.left + 4; x < card.right - 4; x += 6) {
        const a = px(sc, x, y);
        const b = px(fc, x - vr.left, y - vr.top);
        diff += Math.abs(a[0]! - b[0]!) + Math.abs(a[1]! - b[1]!) + Math.abs(a[2]! - b[2]!);
        n++;
      }
    }
    return { distinctColours: new Set(line).size, overlayDiff: diff / n / 3, overlayVisible: card.width > 100 && card.height > 80 };
  }, `data:image/png;base64,${png.toString('base64')}`);
  assert.ok(seen.distinctColours >= 4, `the picture should show the test pattern's colours, saw ${seen.distinctColours}`);
  assert.ok(seen.overlayVisible, 'the stats card has a size');
  assert.ok(seen.overlayDiff > 15, `the stats card should visibly cover the picture (mean difference ${seen.overlayDiff.toFixed(1)})`);
});

test('killing the server shows "reconnecting", then "cannot reach the server", and the restarted server brings the viewer back to live video by itself', async () => {
  // Without a media pipeline the same holds for the connection: back to "open" by itself.
  const ready = liveVideo;
  await waitUntil('ready', ready);
  await page.evaluate(() => {
    (window as unknown as { oldPc: unknown }).oldPc = window.streamgate.client.peerConnection;
  });
  const port = server.port;
  await server.stop('SIGKILL');
  await waitUntil('"reconnecting in N s" in the status line', (p) => p.state === 'reconnecting' && /reconnecting in \d+ s/i.test(p.status), 15_000);
  // Once a retry has failed too, the page says the server cannot be reached, and that it keeps trying.
  await waitUntil(
    '"Cannot reach the server · reconnecting in N s (attempt N)"',
    (p) => p.state === 'reconnecting' && /^Cannot reach the server · reconnecting in \d+ s \(attempt \d+\)…$/.test(p.status),
    15_000,
  );

  server = await startServer(['--port', String(port)]);
  await waitUntil('live video again', ready, 45_000);
  const replaced = await page.evaluate(() => window.streamgate.client.peerConnection !== (window as unknown as { oldPc: unknown }).oldPc);
  assert.ok(replaced, 'frames come from a new peer connection with the new server');
  assert.match((await probe()).status, /^Live/);
});

test('choosing VP8 renegotiates to VP8, and the choice survives a reload', async () => {
  await waitUntil('live video', liveVideo);
  await page.selectOption('#codec', 'VP8');
  await waitUntil('VP8 decoding', (p) => liveVideo(p) && /VP8/i.test(p.codec ?? ''), 30_000);
  const second = await openViewer();
  try {
    assert.equal(await second.inputValue('#codec'), 'VP8');
    await waitUntil('VP8 after reload', (p) => liveVideo(p) && /VP8/i.test(p.codec ?? ''), 30_000, second);
  } finally {
    await second.close();
  }
  await page.selectOption('#codec', 'H264');
  await waitUntil('back to H264', (p) => liveVideo(p) && /H264/i.test(p.codec ?? ''), 30_000);
});

test("a server error is shown in the status line in the server's words", async () => {
  await waitUntil('connected', liveVideo);
  const message = await page.evaluate(async () => {
    const client = window.streamgate.client;
    const error = client.next('error');
    client.send('answer', { sdp: { type: 'answer', sdp: 'not an sdp' } });
    return (await error).message;
  });
  assert.ok(message.length > 0);
  const status = await page.textContent('#status-text');
  assert.equal(status, `Error: ${message}`);
  assert.ok(await page.evaluate(() => document.body.classList.contains('has-error')));
});
