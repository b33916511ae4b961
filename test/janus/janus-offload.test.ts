/**
 * `--janus` end to end: the real server (test source, so every viewer is view-only) with a real Janus, and the
 * shipped viewer in headless Chromium. Past `--max-local-viewers` a viewer is served by Janus (Janus's own
 * listing counts it, its admin API says it sent it video, and the browser's selected candidate pair ends at
 * Janus's ICE address); when Janus is killed its viewers move back to local fan-out or are told, and a restarted
 * Janus gets its mountpoints back and serves again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { JanusServer } from '../helpers/janus-server.js';
import { waitUntil } from '../helpers/processes.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { framesAdvance, openViewer, viewerFigures } from '../helpers/viewer-page.js';

type Json = Record<string, unknown>;

function janusFlags(janus: JanusServer): string[] {
  return [
    '--janus', janus.url,
    '--janus-admin', janus.adminUrl,
    '--janus-api-secret', janus.apiSecret,
    '--janus-admin-key', janus.adminKey,
    '--janus-admin-secret', janus.adminKey,
  ];
}

/** The server's `webrtc` stats for the page's own session. */
async function sessionStats(page: Page): Promise<Json> {
  return page.evaluate(async () => {
    const stats = await window.streamgate.client.requestStats(['webrtc', 'system']);
    return stats as unknown as Record<string, unknown>;
  });
}

function servedBy(stats: Json): unknown {
  return (stats.webrtc as Json | undefined)?.served_by;
}

/** The remote end of the browser's selected candidate pair. */
function selectedRemote(page: Page): Promise<{ address: string; port: number } | null> {
  return page.evaluate(async () => {
    const pc = window.streamgate.client.peerConnection;
    if (!pc) return null;
    const report = await pc.getStats();
    let found: { address: string; port: number } | null = null;
    report.forEach((r: Record<string, unknown>) => {
      if (r.type !== 'transport' || typeof r.selectedCandidatePairId !== 'string') return;
      const pair = report.get(r.selectedCandidatePairId) as { remoteCandidateId?: string } | undefined;
      const remote = pair?.remoteCandidateId ? (report.get(pair.remoteCandidateId) as { address?: string; port?: number } | undefined) : undefined;
      if (remote?.address && remote.port) found = { address: remote.address, port: remote.port };
    });
    return found;
  });
}

async function janusViewerCount(server: TestServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('streamgate_janus_mountpoint_viewers{'));
  return line ? Number(line.split(' ').pop()) : -1;
}

async function waitForServedBy(page: Page, expected: string, timeoutMs = 30_000): Promise<void> {
  let last: unknown;
  await waitUntil(`the viewer served by ${expected} (last: ${String(last)})`, async () => {
    last = servedBy(await sessionStats(page));
    return last === expected;
  }, timeoutMs);
}

/** A Janus, the server pointed at it with `args`, and a Chromium, for one describe block. */
function withJanus(args: string[]): { janus: JanusServer; server: TestServer; browser: Browser } {
  const parts = {} as { janus: JanusServer; server: TestServer; browser: Browser };
  before(async () => {
    parts.janus = await JanusServer.start();
    parts.server = await startServer([...janusFlags(parts.janus), ...args]);
    parts.browser = await launchChromium();
  });
  after(async () => {
    await parts.browser?.close();
    await parts.server?.stop();
    await parts.janus?.dispose();
  });
  return parts;
}

describe('view-only viewers past --max-local-viewers are served by Janus', () => {
  const parts = withJanus(['--max-local-viewers', '1', '--janus-fallback', 'local']);
  const pages: Page[] = [];

  test('the first viewer is local, the next two decode video sent by Janus', async () => {
    const { janus, server, browser } = parts;
    pages.push(await openViewer(browser, server.url));
    await framesAdvance(pages[0]!, 15, 45_000);
    for (let i = 0; i < 2; i++) {
      const page = await openViewer(browser, server.url);
      pages.push(page);
      await framesAdvance(page, 15, 45_000);
    }
    const [local, ...offloaded] = pages;
    assert.equal(servedBy(await sessionStats(local!)), undefined, 'the first viewer is a plain local one');
    for (const page of offloaded) {
      const stats = await sessionStats(page);
      const webrtc = stats.webrtc as Json;
      assert.equal(webrtc.served_by, 'janus', JSON.stringify(webrtc));
      const sent = webrtc.janus_sent as { type: string; packets: number }[];
      assert.ok(sent.some((m) => m.type === 'video' && m.packets > 50), `Janus's admin API says it sent this viewer video: ${JSON.stringify(sent)}`);
      const remote = await selectedRemote(page);
      assert.equal(remote?.address, janus.iceAddress, `the media comes from Janus's ICE address: ${JSON.stringify(remote)}`);
      assert.deepEqual((await viewerFigures(page)).errors, []);
    }
    const localRemote = await selectedRemote(local!);
    assert.notEqual(localRemote?.port, (await selectedRemote(offloaded[0]!))?.port);
    assert.equal(await janusViewerCount(server), 2, "Janus's own listing counts the two viewers");
    const media = ((await sessionStats(local!)).system as Json).media as Json;
    assert.equal(media.janus_viewers, 2, JSON.stringify(media));
    const [gateway] = media.janus as { up: boolean; mountpoints: { viewers: number; forwardedPackets: number; keyframeRequests: number }[] }[];
    assert.ok(gateway?.up && gateway.mountpoints.some((m) => m.viewers === 2 && m.forwardedPackets > 100 && Number.isInteger(m.keyframeRequests)), JSON.stringify(media.janus));
  });

  test('Janus killed mid-stream: its viewers move to local fan-out and keep decoding; a restart is re-provisioned', async () => {
    const { janus, server, browser } = parts;
    const offloaded = pages.slice(1);
    await janus.kill();
    for (const page of offloaded) {
      await waitForServedBy(page, 'local');
      await framesAdvance(page, 30, 45_000);
    }
    await janus.restart();
    await waitUntil('Janus re-provisioned (its mountpoint listing answers again)', async () => (await janusViewerCount(server)) === 0, 30_000);
    // A newcomer past the limit is Janus's again.
    const page = await openViewer(browser, server.url);
    pages.push(page);
    await framesAdvance(page, 15, 45_000);
    assert.equal(servedBy(await sessionStats(page)), 'janus');
    assert.equal(await janusViewerCount(server), 1);
  });
});

describe('with --janus-fallback tell, a Janus viewer is told MEDIA_UNAVAILABLE and gets Janus back after a restart', () => {
  const parts = withJanus(['--max-local-viewers', '0', '--janus-fallback', 'tell']);

  test('killed, told, restarted, decoding through Janus again', async () => {
    const { janus, server, browser } = parts;
    const page = await openViewer(browser, server.url);
    await framesAdvance(page, 15, 45_000);
    assert.equal(servedBy(await sessionStats(page)), 'janus');
    await janus.kill();
    await waitUntil('MEDIA_UNAVAILABLE told to the viewer', async () => (await viewerFigures(page)).errors.includes('MEDIA_UNAVAILABLE'), 30_000);
    await janus.restart();
    await waitUntil('Janus serving the viewer again', async () => (await janusViewerCount(server)) === 1, 45_000);
    await framesAdvance(page, 30, 45_000);
    assert.equal(servedBy(await sessionStats(page)), 'janus');
  });

  test('asking again for an offer keeps the live Janus connection', async () => {
    const { server, browser } = parts;
    const page = await openViewer(browser, server.url);
    await framesAdvance(page, 15, 45_000);
    const before = await selectedRemote(page);
    await page.evaluate(() => window.streamgate.client.requestOffer());
    await framesAdvance(page, 30, 45_000);
    assert.deepEqual(await selectedRemote(page), before, 'the same connection to Janus');
    assert.deepEqual((await viewerFigures(page)).errors, []);
    assert.equal(servedBy(await sessionStats(page)), 'janus');
  });
});
