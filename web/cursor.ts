/**
 * The desktop's cursor drawn by the browser (docs/protocol.md, "Cursor"): the picture the server sends
 * becomes the video's CSS cursor, so it moves with the person's own mouse at once instead of a frame
 * later; pictures are kept by serial (the server sends each PNG once). A viewer that is not in control
 * sees a marker where the desktop's pointer is, and, while its video leaves the pointer out (every viewer
 * of its encoder draws the cursor itself), the cursor's picture on it, its hotspot on the pointer.
 * In control, the CSS cursor stays even when the video shows the pointer too (a viewer that does not draw
 * it, such as a seed client, joined): the local one is the one that keeps up with the hand.
 */
import { displayedRect, parseObjectFit, type CursorMessage, type StreamgateClient } from '../src/client/index.js';

/** Half the marker's outer size: its box starts this far up and left of the pointer (style.css, .remote-pointer). */
const MARKER_CENTRE = 7;

interface Picture {
  css: string;
  url: string;
}

export function attachCursor(client: StreamgateClient, video: HTMLVideoElement, marker: HTMLElement): void {
  const pictures = new Map<number, Picture>();
  let current: CursorMessage['data'] | null = null;
  const drawn = document.createElement('div');
  Object.assign(drawn.style, { position: 'absolute', backgroundRepeat: 'no-repeat', pointerEvents: 'none' });
  marker.append(drawn);

  /** The cursor's picture on the marker while the video has no pointer of its own; else the ring alone. */
  function drawMarker(): void {
    const picture = current && current.in_picture === false && current.width > 0 && current.height > 0 ? pictures.get(current.serial) : undefined;
    drawn.hidden = !picture;
    marker.dataset.drawn = String(Boolean(picture));
    marker.style.borderColor = picture ? 'transparent' : '';
    marker.style.boxShadow = picture ? 'none' : '';
    if (!picture || !current) return;
    Object.assign(drawn.style, {
      left: `${MARKER_CENTRE - current.xhot}px`,
      top: `${MARKER_CENTRE - current.yhot}px`,
      width: `${current.width}px`,
      height: `${current.height}px`,
      backgroundImage: `url(${picture.url})`,
    });
  }

  client.on('cursor', ({ data }) => {
    if (data.png) {
      const url = `data:image/png;base64,${data.png}`;
      pictures.set(data.serial, { url, css: `url(${url}) ${data.xhot} ${data.yhot}, auto` });
    }
    current = data;
    // A picture of 0×0 is X's hidden cursor.
    video.style.cursor = data.width === 0 || data.height === 0 ? 'none' : (pictures.get(data.serial)?.css ?? '');
    video.dataset.cursorSerial = String(data.serial);
    video.dataset.cursorInPicture = String(data.in_picture !== false);
    drawMarker();
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
