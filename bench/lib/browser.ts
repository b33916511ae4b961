/**
 * Headless Chromium for the benchmarks: the page agent (bench/page/agent.ts + the client SDK) bundled
 * by esbuild, loaded into a page on the server's own origin so the SDK's WebSocket passes the origin check.
 */
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../test/helpers/chromium.js';
import { CLIENT_VERSION } from '../../src/client/index.js';
import { ROOT } from './paths.js';
import { descendants, commandLine } from './proc.js';

const bundles = new Map<string, Promise<string>>();

/** The agent and the SDK as one IIFE script, built from the TypeScript sources. */
export function agentBundle(): Promise<string> {
  return pageBundle('bench/page/agent.ts');
}

/** A page script under bench/page as one IIFE script, with what it imports (the SDK, lib/pattern.ts). */
export function pageBundle(entry: string): Promise<string> {
  let bundle = bundles.get(entry);
  bundle ??= build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome120'],
    // The SDK's version written in, as scripts/build-web.mjs does; esbuild would still warn about the
    // Node fallback's import.meta (in an iife), which the define makes dead code.
    define: { STREAMGATE_VERSION: JSON.stringify(CLIENT_VERSION) },
    logOverride: { 'empty-import-meta': 'silent' },
    write: false,
    logLevel: 'warning',
  }).then((r) => r.outputFiles[0]!.text);
  bundles.set(entry, bundle);
  return bundle;
}

export { launchChromium };

/** Chromium's processes (children of this Node process), to keep the browser's CPU apart. */
export function chromiumPids(): number[] {
  return descendants(process.pid).filter((p) => /chrom/.test(commandLine(p).split(' ')[0] ?? ''));
}

/** A page on the server's origin with the agent loaded (`window.agent`). */
export async function agentPage(browser: Browser, serverUrl: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (err) => process.stderr.write(`[page] ${err.message}\n`));
  await page.goto(`${serverUrl}/healthz`);
  await page.setContent('<!doctype html><html><body style="margin:0;background:#222"></body></html>');
  await page.addScriptTag({ content: await agentBundle() });
  return page;
}
