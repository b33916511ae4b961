/**
 * Whether one video encoder draws the desktop's pointer into its picture. The picture is shared by every viewer
 * of the encoder, so it leaves the pointer out only while each of them draws the cursor itself (its client
 * announced `cursor`: docs/protocol.md, "Cursor"); one viewer that does not — a seed client, a WHEP player, the
 * Janus forwarder — keeps it in. With nobody watching it stays in: the first frames a newcomer of any kind
 * decodes are then right for it, and a capable newcomer takes it out a frame later.
 */

/** A viewer's say in the policy. */
export interface PointerViewer {
  /** The client draws the cursor itself. */
  readonly drawsCursor: boolean;
  /** It now watches this picture (it asks for a review when drawsCursor changes). */
  watch(policy: PointerPolicy): void;
  unwatch(policy: PointerPolicy): void;
  /** A picture it watches switched its pointer on or off. */
  pictureChanged(): void;
}

export class PointerPolicy {
  /** By subscription: a viewer without a PointerViewer (undefined) needs the pointer in the picture. */
  private readonly viewers = new Map<object, PointerViewer | undefined>();
  private show = true;

  /** `apply` switches the encoder's capture; it is called only on a change. */
  constructor(private readonly apply: (show: boolean) => void) {}

  /** The picture shows the pointer now (and a restarted encoder starts so). */
  get shown(): boolean {
    return this.show;
  }

  add(subscription: object, viewer: PointerViewer | undefined): void {
    this.viewers.set(subscription, viewer);
    this.review();
    viewer?.watch(this);
  }

  remove(subscription: object): void {
    if (!this.viewers.has(subscription)) return;
    const viewer = this.viewers.get(subscription);
    this.viewers.delete(subscription);
    viewer?.unwatch(this);
    this.review();
  }

  /** Decides again: a viewer came, left, or changed whether it draws the cursor. */
  review(): void {
    const viewers = [...this.viewers.values()];
    const show = viewers.length === 0 || viewers.some((viewer) => !viewer?.drawsCursor);
    if (show === this.show) return;
    this.show = show;
    this.apply(show);
    for (const viewer of new Set(viewers)) viewer?.pictureChanged();
  }
}
