import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { VirtualDesktop } from '../../src/desktop/index.js';
import { BOTH, eventually } from './browser-session.js';
import { MediaFixture, SETTINGS, workerProcesses } from './media-fixture.js';

let desktop: VirtualDesktop;
let fixture: MediaFixture;

before(async () => {
  desktop = new VirtualDesktop({ width: 800, height: 600, app: null });
  await desktop.start();
  // A known picture to look for: the whole root window in one colour.
  execFileSync('xsetroot', ['-solid', '#ff0000'], { env: { ...process.env, DISPLAY: desktop.display } });
  fixture = await MediaFixture.start({}, { ...SETTINGS, source: { kind: 'x11', display: desktop.display } });
});

after(async () => {
  await fixture?.stop();
  await desktop?.stop();
  assert.deepEqual(workerProcesses(), []);
});

test('an X display is streamed at the screen size, with a silent audio track', { timeout: 60_000 }, async () => {
  const { peer } = await fixture.watch(BOTH);
  const inbound = await peer.waitForInbound(
    (i) => i.some((e) => e.kind === 'video' && (e.framesDecoded ?? 0) > 0 && e.frameWidth !== undefined) && i.some((e) => e.kind === 'audio' && e.packetsReceived > 0),
  );
  const video = inbound.find((e) => e.kind === 'video');
  assert.equal(video?.frameWidth, 800);
  assert.equal(video?.frameHeight, 600);
  assert.ok((inbound.find((e) => e.kind === 'audio')?.packetsReceived ?? 0) > 0, 'the audio track carries (silent) packets');
  // Off centre: the pointer, drawn into the capture, starts in the middle of the screen.
  const points = [[0.25, 0.25], [0.75, 0.75]] as const;
  const red = async (): Promise<boolean> =>
    (await peer.videoPixels(points)).every(([r, g, b]) => r > 200 && g < 60 && b < 60);
  assert.ok(await eventually(red), `the screen's colour is shown: ${JSON.stringify(await peer.videoPixels(points))}`);
});
