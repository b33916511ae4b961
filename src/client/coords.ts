/**
 * Pure geometry: where a pointer in page (client) coordinates lands in the streamed video's own
 * pixel space, given the <video> element's content box, its intrinsic size and CSS object-fit.
 */

export type ObjectFit = 'contain' | 'cover' | 'fill' | 'none' | 'scale-down';

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** One axis of CSS object-position: offset = (box − image) × fraction + px. Default: centred. */
export interface AxisPosition {
  fraction: number;
  px: number;
}
export interface ObjectPosition {
  x: AxisPosition;
  y: AxisPosition;
}
export const CENTERED: ObjectPosition = { x: { fraction: 0.5, px: 0 }, y: { fraction: 0.5, px: 0 } };

export interface VideoPoint {
  /** Integer pixel in [0, videoWidth − 1]. */
  x: number;
  /** Integer pixel in [0, videoHeight − 1]. */
  y: number;
  /** False when the pointer is outside the picture (letterbox bars, or outside the element); x/y are clamped then. */
  inside: boolean;
}

/** The rectangle, in client coordinates, that the video picture occupies inside `box` (the element's content box). */
export function displayedRect(
  box: Rect,
  videoWidth: number,
  videoHeight: number,
  fit: ObjectFit = 'contain',
  position: ObjectPosition = CENTERED,
): Rect {
  let width: number;
  let height: number;
  const scaleContain = Math.min(box.width / videoWidth, box.height / videoHeight);
  const scaleCover = Math.max(box.width / videoWidth, box.height / videoHeight);
  switch (fit) {
    case 'fill':
      return { ...box };
    case 'cover':
      width = videoWidth * scaleCover;
      height = videoHeight * scaleCover;
      break;
    case 'none':
      width = videoWidth;
      height = videoHeight;
      break;
    case 'scale-down': {
      const s = Math.min(1, scaleContain);
      width = videoWidth * s;
      height = videoHeight * s;
      break;
    }
    case 'contain':
    default:
      width = videoWidth * scaleContain;
      height = videoHeight * scaleContain;
  }
  return {
    left: box.left + (box.width - width) * position.x.fraction + position.x.px,
    top: box.top + (box.height - height) * position.y.fraction + position.y.px,
    width,
    height,
  };
}

/**
 * Maps a client point onto the video's pixel grid. Returns null while the video has no size yet
 * (no frame decoded) or the element has no area.
 */
export function clientToVideo(
  clientX: number,
  clientY: number,
  box: Rect,
  videoWidth: number,
  videoHeight: number,
  fit: ObjectFit = 'contain',
  position: ObjectPosition = CENTERED,
): VideoPoint | null {
  if (!(videoWidth > 0 && videoHeight > 0 && box.width > 0 && box.height > 0)) return null;
  const shown = displayedRect(box, videoWidth, videoHeight, fit, position);
  const fx = (clientX - shown.left) / shown.width;
  const fy = (clientY - shown.top) / shown.height;
  // The picture as visible: with `cover`/`none` parts of it lie outside the element and cannot be pointed at.
  const inBox = clientX >= box.left && clientX < box.left + box.width && clientY >= box.top && clientY < box.top + box.height;
  const inside = inBox && fx >= 0 && fx < 1 && fy >= 0 && fy < 1;
  return {
    x: clamp(Math.floor(fx * videoWidth), 0, videoWidth - 1),
    y: clamp(Math.floor(fy * videoHeight), 0, videoHeight - 1),
    inside,
  };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

const KEYWORDS: Record<string, number> = { left: 0, top: 0, center: 0.5, right: 1, bottom: 1 };

function parseAxis(token: string | undefined): AxisPosition {
  if (token === undefined) return { fraction: 0.5, px: 0 };
  if (token in KEYWORDS) return { fraction: KEYWORDS[token]!, px: 0 };
  const m = /^(-?\d*\.?\d+)(%|px)?$/.exec(token);
  if (!m) return { fraction: 0.5, px: 0 };
  const n = Number(m[1]);
  return m[2] === 'px' || (m[2] === undefined && n === 0) ? { fraction: 0, px: n } : { fraction: n / 100, px: 0 };
}

/** Parses a computed `object-position` ("50% 50%", "0px 0px", "left top"). Unknown forms fall back to centred. */
export function parseObjectPosition(value: string | null | undefined): ObjectPosition {
  const tokens = (value ?? '').trim().split(/\s+/).filter(Boolean);
  if (tokens.length === 0) return CENTERED;
  // Keywords may come in either order ("top left"); computed values are always "x y".
  let [a, b] = tokens;
  if (a === 'top' || a === 'bottom' || (b === 'left' || b === 'right')) [a, b] = [b, a];
  return { x: parseAxis(a), y: parseAxis(b) };
}

export function parseObjectFit(value: string | null | undefined): ObjectFit {
  switch (value) {
    case 'cover':
    case 'fill':
    case 'none':
    case 'scale-down':
    case 'contain':
      return value;
    default:
      return 'contain';
  }
}
