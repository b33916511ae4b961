/**
 * Headless Chromium inside the lab's browser namespace: Playwright starts a wrapper script that execs
 * Chromium under `ip netns exec`; Playwright speaks CDP over a pipe, which crosses namespaces. The page
 * is opened on the server's origin (so the SDK's WebSocket passes the origin check) and given the
 * lab's viewer (page/watch.ts, bundled with the SDK).
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../chromium.js';
import type { BrowserNamespace, NetLab } from './lab.js';
import type { RemoteCandidate, SelectedPair, VideoCounters, WatchOptions } from './page/watch.js';

/** The repository root (this file runs from dist/test/helpers/netlab). */
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

let bundle: Promise<string> | undefined;

function watchBundle(): Promise<string> {
  bundle ??= build({
    absWorkingDir: ROOT,
    entryPoints: ['test/helpers/netlab/page/watch.ts'],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome120'],
    write: false,
    logLevel: 'warning',
  }).then((r) => r.outputFiles[0]!.text);
  return bundle;
}

/** Chromium in the lab's first browser namespace, or in `ns` (one that `lab.addBrowser()` made). */
export function launchLabChromium(lab: NetLab, ns: BrowserNamespace = 'browser'): Promise<Browser> {
  return chromium.launch({ executablePath: lab.wrapper(ns, CHROMIUM_PATH), headless: true, args: CHROMIUM_ARGS });
}

/** A page in the browser namespace watching the server's stream, its counters recorded every second. */
export class LabViewer {
  private constructor(readonly page: Page) {}

  static async open(browser: Browser, serverUrl: string, wsUrl: string, options: WatchOptions): Promise<LabViewer> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${serverUrl}/healthz`);
    await page.setContent('<!doctype html><html><body style="margin:0;background:#222"></body></html>');
    await page.addScriptTag({ content: await watchBundle() });
    await page.evaluate(([url, o]) => window.netlab.watch(url, o), [wsUrl, options] as const);
    return new LabViewer(page);
  }

  /** Date.now() in the page when watching started: where the samples' atMs count from. */
  startedWallMs(): Promise<number> {
    return this.page.evaluate(() => window.netlab.startedWallMs);
  }

  samples(): Promise<VideoCounters[]> {
    return this.page.evaluate(() => window.netlab.samples);
  }

  /** The server's `stats` figures of this viewer's video (`congestion.rung` …); null before a peer connection. */
  serverVideoStats(): Promise<Record<string, unknown> | null> {
    return this.page.evaluate(() => window.netlab.serverVideoStats());
  }

  selectedPair(): Promise<SelectedPair | null> {
    return this.page.evaluate(() => window.netlab.selectedPair());
  }

  welcomeIceServers(): Promise<RTCIceServer[]> {
    return this.page.evaluate(() => window.netlab.welcomeIceServers());
  }

  relayCandidates(iceServers: RTCIceServer[]): Promise<string[]> {
    return this.page.evaluate((servers) => window.netlab.relayCandidates(servers), iceServers);
  }

  remoteCandidates(): Promise<RemoteCandidate[]> {
    return this.page.evaluate(() => window.netlab.remoteCandidates());
  }

  async close(): Promise<void> {
    await this.page.evaluate(() => window.netlab.stop()).catch(() => undefined);
    await this.page.close().catch(() => undefined);
  }
}
