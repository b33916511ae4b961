/**
 * Input capture: turns pointer, wheel and keyboard events on a <video> into protocol input in the
 * video's own pixel space. Every press is paired with a release; whatever is held is released on
 * blur, on hiding the page and on detach, so nothing stays stuck on the remote desktop.
 */
import type { MouseButton } from '../protocol/client-messages.js';
import { clientToVideo, parseObjectFit, parseObjectPosition, type Rect, type VideoPoint } from './coords.js';

export interface ModifierState {
  shift: boolean;
  ctrl: boolean;
  alt: boolean;
  meta: boolean;
}

export interface KeyInput {
  /** DOM `KeyboardEvent.key`, e.g. `a`, `Enter`, `ArrowLeft`. */
  key: string;
  /** DOM `KeyboardEvent.code`, e.g. `KeyA` (physical key; the server tracks presses by it). */
  code?: string;
  /** Legacy `keyCode`, the fallback. */
  keyCode?: number;
  /** `down`, `up`, or absent for press+release. */
  action?: 'down' | 'up';
  modifiers?: ModifierState;
  repeat?: boolean;
}

/** Where captured input goes; StreamgateClient implements it. */
export interface InputSink {
  mouseMove(x: number, y: number): void;
  mouseClick(x: number, y: number, button?: MouseButton, action?: 'down' | 'up' | 'click', modifiers?: ModifierState): void;
  mouseWheel(dx: number, dy: number, x?: number, y?: number): void;
  key(input: KeyInput): void;
}

export interface InputOptions {
  /** Capture pointer events (default true). */
  pointer?: boolean;
  /** Capture the wheel (default true). */
  wheel?: boolean;
  /** Capture keyboard events (default true). */
  keyboard?: boolean;
  /** Where key events are listened for: default the video element itself (made focusable). Pass `window` to take every key. */
  keyboardTarget?: EventTarget;
  /** Return false to let the browser have a key (it is then not sent). Default: every key is captured. */
  captureKey?: (event: KeyboardEvent) => boolean;
  /** Pixels of wheel delta per notch when the browser reports pixels (default 100). */
  wheelPixelsPerNotch?: number;
}

/** DOM `MouseEvent.button` → protocol button. */
export function buttonFromDom(button: number): MouseButton | null {
  return (['left', 'middle', 'right', 'back', 'forward'] as const)[button] ?? null;
}

/** DOM `MouseEvent.buttons` bit → protocol button (note: the bit order differs from `button`). */
const BUTTON_BITS: readonly [number, MouseButton][] = [
  [1, 'left'],
  [2, 'right'],
  [4, 'middle'],
  [8, 'back'],
  [16, 'forward'],
];

export function buttonsFromMask(mask: number): Set<MouseButton> {
  const out = new Set<MouseButton>();
  for (const [bit, name] of BUTTON_BITS) if (mask & bit) out.add(name);
  return out;
}

export function modifiersOf(e: { shiftKey: boolean; ctrlKey: boolean; altKey: boolean; metaKey: boolean }): ModifierState {
  return { shift: e.shiftKey, ctrl: e.ctrlKey, alt: e.altKey, meta: e.metaKey };
}

/**
 * Turns wheel deltas into whole notches, keeping the remainder so that touchpads' small deltas add
 * up. Lines: 3 per notch (the browsers' default); pages: 1 notch each.
 */
export class WheelAccumulator {
  private x = 0;
  private y = 0;
  constructor(private readonly pixelsPerNotch = 100) {}

  add(deltaX: number, deltaY: number, deltaMode: number): { dx: number; dy: number } {
    const per = deltaMode === 1 ? 3 : deltaMode === 2 ? 1 : this.pixelsPerNotch;
    this.x += deltaX / per;
    this.y += deltaY / per;
    const dx = Math.trunc(this.x);
    const dy = Math.trunc(this.y);
    this.x -= dx;
    this.y -= dy;
    return { dx: clampNotches(dx), dy: clampNotches(dy) };
  }

  reset(): void {
    this.x = 0;
    this.y = 0;
  }
}

function clampNotches(n: number): number {
  return Math.max(-100, Math.min(100, n));
}

/** The id a held key is tracked by: the physical `code` (Shift+1 is "!" down and may be "1" up). */
function keyId(e: { code?: string; key: string; keyCode?: number }): string {
  return e.code || `key:${e.key}:${e.keyCode ?? ''}`;
}

/** The content box of an element in client coordinates (border and padding removed, CSS transforms' scale kept). */
function contentBox(el: HTMLElement): Rect {
  const r = el.getBoundingClientRect();
  const cs = getComputedStyle(el);
  const sx = el.offsetWidth ? r.width / el.offsetWidth : 1;
  const sy = el.offsetHeight ? r.height / el.offsetHeight : 1;
  const px = (v: string): number => parseFloat(v) || 0;
  const left = (px(cs.borderLeftWidth) + px(cs.paddingLeft)) * sx;
  const right = (px(cs.borderRightWidth) + px(cs.paddingRight)) * sx;
  const top = (px(cs.borderTopWidth) + px(cs.paddingTop)) * sy;
  const bottom = (px(cs.borderBottomWidth) + px(cs.paddingBottom)) * sy;
  return { left: r.left + left, top: r.top + top, width: Math.max(0, r.width - left - right), height: Math.max(0, r.height - top - bottom) };
}

/** Where an event lands in the video's pixels, or null when the video has no frame yet. */
export function videoPointOf(video: HTMLVideoElement, clientX: number, clientY: number): VideoPoint | null {
  const cs = getComputedStyle(video);
  return clientToVideo(
    clientX,
    clientY,
    contentBox(video),
    video.videoWidth,
    video.videoHeight,
    parseObjectFit(cs.objectFit),
    parseObjectPosition(cs.objectPosition),
  );
}

export class InputController {
  private readonly held = new Set<MouseButton>();
  private readonly keys = new Map<string, KeyInput>();
  private readonly wheel: WheelAccumulator;
  private readonly cleanups: (() => void)[] = [];
  private keyboardEnabled: boolean;
  private pendingMove: { x: number; y: number } | null = null;
  private moveScheduled = false;
  private lastPoint: VideoPoint | null = null;
  private detached = false;

  constructor(
    readonly video: HTMLVideoElement,
    private readonly sink: InputSink,
    private readonly options: InputOptions = {},
  ) {
    this.wheel = new WheelAccumulator(options.wheelPixelsPerNotch ?? 100);
    this.keyboardEnabled = options.keyboard ?? true;
    const listen = <E extends Event>(target: EventTarget, type: string, fn: (e: E) => void, opts: AddEventListenerOptions = {}): void => {
      const h = fn as EventListener;
      target.addEventListener(type, h, opts);
      this.cleanups.push(() => target.removeEventListener(type, h, opts));
    };

    if (options.pointer ?? true) {
      listen<PointerEvent>(video, 'pointerdown', (e) => this.onPointer(e, 'down'));
      listen<PointerEvent>(video, 'pointermove', (e) => this.onPointer(e, 'move'));
      listen<PointerEvent>(video, 'pointerup', (e) => this.onPointer(e, 'up'));
      listen<PointerEvent>(video, 'pointercancel', () => this.releaseButtons());
      listen<PointerEvent>(video, 'lostpointercapture', (e) => {
        if (e.buttons === 0) this.releaseButtons();
      });
      listen<MouseEvent>(video, 'contextmenu', (e) => e.preventDefault());
      // Back/forward buttons would navigate the viewer page away.
      const noNav = (e: MouseEvent): void => {
        if (e.button === 3 || e.button === 4) e.preventDefault();
      };
      listen<MouseEvent>(video, 'mouseup', noNav);
      listen<MouseEvent>(video, 'auxclick', noNav);
      video.style.touchAction = 'none';
    }
    if (options.wheel ?? true) {
      listen<WheelEvent>(video, 'wheel', (e) => this.onWheel(e), { passive: false });
    }
    const keyTarget = options.keyboardTarget ?? video;
    // A <video> reports tabIndex 0 but is not focusable without the attribute (Chromium).
    if (keyTarget === video && !video.hasAttribute('tabindex')) video.tabIndex = 0;
    listen<KeyboardEvent>(keyTarget, 'keydown', (e) => this.onKey(e, 'down'));
    listen<KeyboardEvent>(keyTarget, 'keyup', (e) => this.onKey(e, 'up'));
    listen(keyTarget, 'blur', () => this.releaseAll());
    if (typeof window !== 'undefined') listen(window, 'blur', () => this.releaseAll());
    if (typeof document !== 'undefined') {
      listen(document, 'visibilitychange', () => {
        if (document.visibilityState === 'hidden') this.releaseAll();
      });
    }
  }

  /** Turns keyboard capture on or off; turning it off releases every held key. */
  setKeyboardEnabled(enabled: boolean): void {
    this.keyboardEnabled = enabled;
    if (!enabled) this.releaseKeys();
  }

  get keyboard(): boolean {
    return this.keyboardEnabled;
  }

  /** What is pressed right now (for diagnostics and tests). */
  get pressed(): { buttons: MouseButton[]; keys: string[] } {
    return { buttons: [...this.held], keys: [...this.keys.values()].map((k) => k.key) };
  }

  /** Releases every held button and key (sent as `up` events). */
  releaseAll(): void {
    this.releaseButtons();
    this.releaseKeys();
  }

  /** Removes every listener, after releasing whatever is held. */
  detach(): void {
    if (this.detached) return;
    this.releaseAll();
    this.detached = true;
    for (const c of this.cleanups.splice(0)) c();
  }

  private point(e: MouseEvent): VideoPoint | null {
    const p = videoPointOf(this.video, e.clientX, e.clientY);
    if (p) this.lastPoint = p;
    return p;
  }

  private onPointer(e: PointerEvent, kind: 'down' | 'move' | 'up'): void {
    if (this.detached) return;
    if (kind === 'up') e.preventDefault(); // also keeps back/forward from navigating the page away
    const p = this.point(e);
    if (!p) return;
    if (kind === 'down') {
      if (!p.inside) return;
      e.preventDefault();
      if (this.options.keyboardTarget === undefined || this.options.keyboardTarget === this.video) this.video.focus({ preventScroll: true });
      try {
        this.video.setPointerCapture(e.pointerId);
      } catch {
        /* synthetic events have no active pointer */
      }
    }
    // Reconcile with the buttons the browser says are down: a second button pressed during a drag
    // arrives as a pointermove (chorded buttons), not as a pointerdown.
    const want = buttonsFromMask(e.buttons);
    if (kind === 'down' && e.buttons === 0) {
      const b = buttonFromDom(e.button);
      if (b) want.add(b);
    }
    const changes: [MouseButton, 'down' | 'up'][] = [];
    for (const b of this.held) if (!want.has(b)) changes.push([b, 'up']);
    if (p.inside || this.held.size > 0) for (const b of want) if (!this.held.has(b)) changes.push([b, 'down']);
    if (changes.length === 0) {
      if (kind === 'move' && (p.inside || this.held.size > 0)) this.queueMove(p.x, p.y);
      return;
    }
    this.flushMove();
    const mods = modifiersOf(e);
    for (const [b, action] of changes) {
      if (action === 'down') this.held.add(b);
      else this.held.delete(b);
      this.sink.mouseClick(p.x, p.y, b, action, mods);
    }
    if (kind === 'up' && this.held.size === 0) {
      try {
        this.video.releasePointerCapture(e.pointerId);
      } catch {
        /* not captured */
      }
    }
  }

  /** Moves are coalesced to one per frame: pointer events can come at 1 kHz, the server limits rate. */
  private queueMove(x: number, y: number): void {
    this.pendingMove = { x, y };
    if (this.moveScheduled) return;
    this.moveScheduled = true;
    const run = (): void => this.flushMove();
    if (typeof requestAnimationFrame === 'function' && typeof document !== 'undefined' && document.visibilityState === 'visible') {
      requestAnimationFrame(run);
    } else {
      setTimeout(run, 16);
    }
  }

  private flushMove(): void {
    this.moveScheduled = false;
    const m = this.pendingMove;
    this.pendingMove = null;
    if (m && !this.detached) this.sink.mouseMove(m.x, m.y);
  }

  private onWheel(e: WheelEvent): void {
    if (this.detached) return;
    const p = this.point(e);
    if (!p || !p.inside) return;
    e.preventDefault();
    const { dx, dy } = this.wheel.add(e.deltaX, e.deltaY, e.deltaMode);
    if (dx === 0 && dy === 0) return;
    this.flushMove();
    this.sink.mouseWheel(dx, dy, p.x, p.y);
  }

  private onKey(e: KeyboardEvent, action: 'down' | 'up'): void {
    if (this.detached || !this.keyboardEnabled) return;
    if (e.isComposing || e.keyCode === 229) return; // IME composition: the composed text is not a key.
    if (this.options.captureKey && !this.options.captureKey(e)) return;
    e.preventDefault();
    e.stopPropagation();
    const id = keyId(e);
    const modifiers = modifiersOf(e);
    if (action === 'down') {
      const input: KeyInput = { key: e.key, code: e.code, keyCode: e.keyCode, action: 'down', modifiers, repeat: e.repeat };
      this.keys.set(id, input);
      this.sink.key(input);
    } else {
      const down = this.keys.get(id);
      if (!down) return; // never pressed through us (e.g. pressed before focus)
      this.keys.delete(id);
      // Released as it was pressed: Shift+1 goes down as "!" and must come up as "!", not "1".
      this.sink.key({ key: down.key, code: down.code, keyCode: down.keyCode, action: 'up', modifiers, repeat: false });
    }
  }

  private releaseButtons(): void {
    if (this.held.size === 0) return;
    this.flushMove();
    const p = this.lastPoint;
    for (const b of [...this.held]) {
      this.held.delete(b);
      this.sink.mouseClick(p?.x ?? 0, p?.y ?? 0, b, 'up');
    }
  }

  private releaseKeys(): void {
    for (const [id, down] of [...this.keys]) {
      this.keys.delete(id);
      this.sink.key({ key: down.key, code: down.code, keyCode: down.keyCode, action: 'up', repeat: false });
    }
  }
}
