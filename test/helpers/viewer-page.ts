import type { Browser, Page } from 'playwright-core';
import type { StreamgateClient } from '../../src/client/index.js';

declare global {
  interface Window {
    /** The viewer's test hook (web/main.ts). */
    streamgate: { client: StreamgateClient };
  }
}

export interface ViewerFigures {
  state: string;
  framesDecoded: number;
  /** Server error codes the viewer's SDK client reported, in order. */
  errors: string[];
}

/**
 * Opens the shipped viewer at `url` in `page` and waits for its app (`window.streamgate`): the page's boot
 * loads it once the first frame is shown, or at the first trouble, or after 3 s (web/boot.ts).
 */
export async function gotoViewer(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForFunction(() => Boolean(window.streamgate?.client));
}

/** The shipped viewer at `/`, opened in Chromium, with the SDK's error events recorded for the test. */
export async function openViewer(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await gotoViewer(page, url);
  await page.evaluate(() => {
    const w = window as unknown as { seenErrors: string[] };
    w.seenErrors = [];
    window.streamgate.client.on('error', (e: { code: string }) => w.seenErrors.push(e.code));
  });
  return page;
}

export function viewerFigures(page: Page): Promise<ViewerFigures> {
  return page.evaluate(async () => {
    const pc = window.streamgate.client.peerConnection;
    let framesDecoded = 0;
    if (pc) {
      const report = await pc.getStats();
      report.forEach((r: Record<string, unknown>) => {
        if (r.type === 'inbound-rtp' && r.kind === 'video') framesDecoded = (r.framesDecoded as number) ?? 0;
      });
    }
    return {
      state: document.body.dataset.state ?? '',
      framesDecoded,
      errors: [...(window as unknown as { seenErrors: string[] }).seenErrors],
    };
  });
}

/** Resolves once the viewer decodes `more` frames beyond what it had decoded when called. */
export async function framesAdvance(page: Page, more = 15, timeoutMs = 30_000): Promise<void> {
  const start = (await viewerFigures(page)).framesDecoded;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await viewerFigures(page);
    // A renegotiated peer connection starts counting from zero again.
    if (now.framesDecoded > (now.framesDecoded < start ? 0 : start) + more) return;
    if (Date.now() > deadline) throw new Error(`frames did not advance within ${timeoutMs} ms: ${JSON.stringify(now)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

