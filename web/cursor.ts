/**
 * The desktop's cursor drawn by the browser (docs/protocol.md, "Cursor"): the picture the server sends
 * becomes the video's CSS cursor, so it moves with the person's own mouse at once instead of a frame
 * later; pictures are kept by serial (the server sends each PNG once). A viewer that is not in control
 * sees a marker where the desktop's pointer is.
 */
import { displayedRect, parseObjectFit, type StreamgateClient } from '../src/client/index.js';

export function attachCursor(client: StreamgateClient, video: HTMLVideoElement, marker: HTMLElement): void {
  const pictures = new Map<number, string>();

  client.on('cursor', ({ data }) => {
    if (data.png) pictures.set(data.serial, `url(data:image/png;base64,${data.png}) ${data.xhot} ${data.yhot}, auto`);
    const css = pictures.get(data.serial);
    // A picture of 0×0 is X's hidden cursor.
    video.style.cursor = data.width === 0 || data.height === 0 ? 'none' : (css ?? '');
    video.dataset.cursorSerial = String(data.serial);
  });

  client.on('pointer', ({ data }) => {
    if (!video.videoWidth) return;
    const box = video.getBoundingClientRect();
    const shown = displayedRect(box, video.videoWidth, video.videoHeight, parseObjectFit(getComputedStyle(video).objectFit));
    marker.hidden = false;
    marker.style.transform = `translate(${shown.left + ((data.x + 0.5) * shown.width) / video.videoWidth}px, ${shown.top + ((data.y + 0.5) * shown.height) / video.videoHeight}px)`;
    marker.dataset.x = String(data.x);
    marker.dataset.y = String(data.y);
  });
  // In control, the pointer is the person's own mouse.
  client.on('control', ({ data }) => {
    if (data.input_enabled) marker.hidden = true;
  });
}
