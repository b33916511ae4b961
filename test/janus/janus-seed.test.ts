/**
 * The seed's browser client exactly as the user wrote it, served by Janus: the server (test source, so the
 * client is view-only) hands every viewer to Janus (`--max-local-viewers 0`). The client cannot tell: it
 * plays into #remoteVideo, and the media comes from Janus (its selected candidate pair ends at Janus's ICE
 * address, and Janus counts it as a viewer of our mountpoint).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { JanusServer } from '../helpers/janus-server.js';
import { waitUntil } from '../helpers/processes.js';
import { SEED_MISSING, seedBrowserPage } from '../helpers/seed.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** The seed client connects to ws://localhost:8080/ws by itself. */
const SEED_PORT = 8080;

interface SeedFigures {
  framesDecoded: number;
  remoteAddress: string | null;
}

/** The seed client's own peer connection (its `client` global), read as a person's devtools would. */
function seedFigures(page: Page): Promise<SeedFigures | null> {
  return page.evaluate(async () => {
    const seed = (globalThis as unknown as { eval: (s: string) => unknown }).eval('client') as { peerConnection: RTCPeerConnection | null };
    if (!seed.peerConnection) return null;
    const report = await seed.peerConnection.getStats();
    const figures: SeedFigures = { framesDecoded: 0, remoteAddress: null };
    report.forEach((r: Record<string, unknown>) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') figures.framesDecoded = (r.framesDecoded as number) ?? 0;
      if (r.type === 'transport' && typeof r.selectedCandidatePairId === 'string') {
        const pair = report.get(r.selectedCandidatePairId) as { remoteCandidateId?: string } | undefined;
        const remote = pair?.remoteCandidateId ? (report.get(pair.remoteCandidateId) as { address?: string } | undefined) : undefined;
        figures.remoteAddress = remote?.address ?? null;
      }
    });
    return figures;
  });
}

describe('the seed browser client, unchanged, as a viewer Janus serves', { skip: SEED_MISSING }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sg-seed-janus-'));
  let janus: JanusServer;
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    writeFileSync(join(dir, 'seed.html'), seedBrowserPage());
    janus = await JanusServer.start();
    server = await startServer(
      [
        '--janus', janus.url,
        '--janus-api-secret', janus.apiSecret,
        '--janus-admin-key', janus.adminKey,
        '--max-local-viewers', '0',
        '--web-root', dir,
      ],
      {},
      { port: SEED_PORT },
    );
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await janus?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('plays in #remoteVideo with the media coming from Janus', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(`http://localhost:${SEED_PORT}/seed.html`);
    let last: SeedFigures | null = null;
    await waitUntil('decoded frames in the seed client', async () => {
      last = await seedFigures(page);
      return (last?.framesDecoded ?? 0) > 30;
    }, 45_000);
    assert.equal(last!.remoteAddress, janus.iceAddress, `the media comes from Janus: ${JSON.stringify(last)}`);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /^streamgate_janus_mountpoint_viewers\{[^}]*codec="H264"[^}]*\} 1$/m, 'Janus counts the seed client as its viewer');
  });
});
