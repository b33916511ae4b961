import { EventEmitter } from 'node:events';

export type InputPolicy = 'all' | 'first' | 'none';

/**
 * Who may send input. `first`: the longest-connected peer controls and control passes on when it leaves;
 * a peer may also release control, and request it while nobody holds it. `all`: everyone. `none`: nobody.
 */
export class InputControl extends EventEmitter<{ change: [previous: string | null, next: string | null] }> {
  private readonly members: string[] = [];
  private holder: string | null = null;

  constructor(readonly policy: InputPolicy) {
    super();
  }

  get controller(): string | null {
    return this.holder;
  }

  canInput(sessionId: string): boolean {
    if (this.policy === 'all') return true;
    if (this.policy === 'none') return false;
    return this.holder === sessionId;
  }

  join(sessionId: string): void {
    if (this.members.includes(sessionId)) return;
    this.members.push(sessionId);
    if (this.policy === 'first' && this.holder === null) this.set(sessionId);
  }

  leave(sessionId: string): void {
    const index = this.members.indexOf(sessionId);
    if (index >= 0) this.members.splice(index, 1);
    if (this.holder === sessionId) this.set(this.members[0] ?? null);
  }

  /** True when `sessionId` holds control afterwards. */
  request(sessionId: string): boolean {
    if (this.policy !== 'first') return this.policy === 'all';
    if (this.holder === null && this.members.includes(sessionId)) this.set(sessionId);
    return this.holder === sessionId;
  }

  /** The holder gives control to `to`, a member; true when `to` holds it afterwards. */
  handOver(from: string, to: string): boolean {
    if (this.policy !== 'first' || this.holder !== from || !this.members.includes(to)) return false;
    this.set(to);
    return true;
  }

  release(sessionId: string): void {
    if (this.policy === 'first' && this.holder === sessionId) this.set(null);
  }

  private set(next: string | null): void {
    const previous = this.holder;
    if (previous === next) return;
    this.holder = next;
    this.emit('change', previous, next);
  }
}
