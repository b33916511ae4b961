/**
 * Resize to the window (docs/protocol.md, "Resize"): while this viewer is in control and the server
 * resizes its desktop (`screen.resizable`), the desktop takes the size of the viewer's picture area in
 * device pixels, so one desktop pixel is one screen pixel: sharp, and no scaling. Window resizes are
 * debounced; the server bounds the size and makes it even.
 */
import type { StreamgateClient } from '../src/client/index.js';

const DEBOUNCE_MS = 300;

export function attachFitScreen(client: StreamgateClient, area: HTMLElement, video: HTMLVideoElement, inControl: () => boolean): { refit(): void } {
  let screen: { width: number; height: number; resizable: boolean } | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;

  function fit(): void {
    // Not before the first picture: a resize restarts an encoder still starting, which would fail the offer.
    if (!screen?.resizable || !inControl() || video.videoWidth === 0) return;
    const dpr = window.devicePixelRatio || 1;
    const width = Math.max(16, Math.round((area.clientWidth * dpr) / 2) * 2);
    const height = Math.max(16, Math.round((area.clientHeight * dpr) / 2) * 2);
    if (width === screen.width && height === screen.height) return;
    client.send('resize-screen', { width, height });
  }
  const refit = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(fit, DEBOUNCE_MS);
  };

  client.on('screen', (m) => {
    const first = screen === null;
    screen = m.data;
    if (first) refit();
  });
  client.on('control', (m) => {
    if (m.data.input_enabled) refit();
  });
  window.addEventListener('resize', refit);
  // The first picture, and each new size: the area may not match it yet.
  video.addEventListener('resize', refit);
  return { refit };
}
