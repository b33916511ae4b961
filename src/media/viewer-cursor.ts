import { EventEmitter } from 'node:events';
import type { PointerPolicy, PointerViewer } from './pointer-policy.js';
import type { ViewerCursorEvents, ViewerCursorLink } from './types.js';

/**
 * One viewer's part in the desktop's cursor (docs/protocol.md, "Cursor"): whether its client draws the cursor
 * itself, which decides with the other viewers of its encoder whether the picture shows the pointer
 * (pointer-policy.ts); whether the picture it watches shows it now; and the data channel that `pointer`
 * messages to it take.
 */
export class ViewerCursor extends EventEmitter<ViewerCursorEvents> implements PointerViewer, ViewerCursorLink {
  private draws = false;
  /** The pictures it watches: one, or two while it moves to another rung's encoder. */
  private readonly pictures = new Set<PointerPolicy>();
  private shown = true;

  constructor(private readonly channel: (text: string) => boolean) {
    super();
  }

  get drawsCursor(): boolean {
    return this.draws;
  }

  set drawsCursor(draws: boolean) {
    if (draws === this.draws) return;
    this.draws = draws;
    for (const picture of [...this.pictures]) picture.review();
  }

  /** Whether the picture it watches shows the pointer; either picture while it moves between two. */
  get inPicture(): boolean {
    return this.shown;
  }

  watch(policy: PointerPolicy): void {
    this.pictures.add(policy);
    this.pictureChanged();
  }

  unwatch(policy: PointerPolicy): void {
    if (this.pictures.delete(policy)) this.pictureChanged();
  }

  /** Between encoders (a codec switch) it watches none for a moment, and keeps what it had. */
  pictureChanged(): void {
    if (this.pictures.size === 0) return;
    const shown = [...this.pictures].some((picture) => picture.shown);
    if (shown === this.shown) return;
    this.shown = shown;
    this.emit('in-picture', shown);
  }

  send(text: string): boolean {
    return this.channel(text);
  }
}
