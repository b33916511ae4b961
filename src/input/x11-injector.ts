import { EventEmitter } from 'node:events';
import { logger } from '../log.js';
import { KeyboardState } from './keyboard-state.js';
import { X11PeerInput, type SharedInput } from './peer-input.js';
import { PointerState } from './pointer-state.js';
import { RebindQueue } from './rebind-queue.js';
import type { InputInjector, PeerInput, ScreenSize } from './types.js';
import { XtestLink, type LinkEvents, type XtestLinkOptions } from './xtest-link.js';

export type { X11PeerInput } from './peer-input.js';

const log = logger('input.x11');

export interface X11InputInjectorOptions extends XtestLinkOptions {
  /**
   * A spare keycode is not rebound to another keysym within this many ms of its last use (clients
   * translate queued key events with the mapping current when they read them); input waits instead.
   * Default 200.
   */
  rebindGuardMs?: number;
}

export type InjectorEvents = LinkEvents;

export interface InjectorStats {
  connected: boolean;
  display: string | null;
  screen: ScreenSize | null;
  /** XTEST requests sent. */
  events: number;
  /** Mouse moves dropped because a newer one replaced them while the server lagged. */
  movesCoalesced: number;
  /** Keysyms bound to spare keycodes. */
  keysymsBound: number;
  /** Events that waited for a spare keycode to become reusable. */
  eventsDeferred: number;
  /** Keycodes available for keysyms missing from the keymap. */
  spareKeycodes: number;
  reconnects: number;
  peers: number;
}

/**
 * Mouse and keyboard into an X display through XTEST (docs/architecture.md, "Input flow"): one
 * XtestLink, the keyboard and pointer state all peers share, and one X11PeerInput per peer.
 * Keys and buttons are reference-counted across peers, so one peer's release never lifts what
 * another still holds, and every peer's holdings are released by its releaseAll().
 */
export class X11InputInjector extends EventEmitter<InjectorEvents> implements InputInjector {
  private readonly link: XtestLink;
  private readonly keyboard: KeyboardState;
  private readonly pointer: PointerState;
  private readonly waiting = new RebindQueue();
  /** peerKey → its PeerInput (forPeer hands out the same object for the same key). */
  private readonly peers = new Map<string, X11PeerInput>();
  /** Every PeerInput that may hold something (close() reaches them all). */
  private readonly live = new Set<X11PeerInput>();
  private readonly shared: SharedInput;

  constructor(options: X11InputInjectorOptions) {
    super();
    // The keyboard sends through the link, and the link tells the keyboard about each connection.
    this.keyboard = new KeyboardState({ fake: (type, detail) => this.link.fake(type, detail) }, options.rebindGuardMs ?? 200);
    this.link = new XtestLink(options, this.keyboard);
    this.pointer = new PointerState(this.link);
    this.link.on('connected', (display) => {
      const screen = this.link.screen;
      log.info({ display, width: screen?.width, height: screen?.height, spareKeycodes: this.keyboard.spareCount }, 'input connected');
      this.emit('connected', display);
    });
    this.link.on('disconnected', (reason) => {
      this.pointer.forgetAll();
      this.waiting.clear();
      this.emit('disconnected', reason);
    });
    this.shared = {
      link: this.link,
      pointer: this.pointer,
      keyboard: this.keyboard,
      waiting: this.waiting,
      holders: {
        add: (peer) => this.live.add(peer),
        // A peer that holds nothing is forgotten; it comes back with its next key or click.
        remove: (peer) => {
          if (this.peers.get(peer.peerKey) === peer) this.peers.delete(peer.peerKey);
          this.live.delete(peer);
        },
      },
    };
  }

  /** Creates an injector and connects it; rejects if the first connection fails. */
  static async create(options: X11InputInjectorOptions): Promise<X11InputInjector> {
    const injector = new X11InputInjector(options);
    try {
      await injector.start();
    } catch (err) {
      await injector.close();
      throw err;
    }
    return injector;
  }

  /**
   * Connects. Rejects if this attempt fails, but keeps retrying in the background until close():
   * input starts working as soon as the display is there.
   */
  start(): Promise<void> {
    return this.link.start();
  }

  /** Tries to connect now (e.g. on the desktop's 'display-ready'), skipping the backoff. */
  reconnect(): void {
    this.link.reconnect();
  }

  get connected(): boolean {
    return this.link.connected;
  }

  /** The screen size coordinates are clamped to (follows RandR changes); null while disconnected. */
  get screenSize(): ScreenSize | null {
    return this.link.screen;
  }

  stats(): InjectorStats {
    const counters = this.link.counters;
    return {
      connected: this.link.connected,
      display: this.link.display,
      screen: this.link.screen,
      events: counters.events,
      movesCoalesced: counters.movesCoalesced + this.waiting.movesCoalesced,
      keysymsBound: this.keyboard.keysymsBound,
      eventsDeferred: this.waiting.eventsDeferred,
      spareKeycodes: this.keyboard.spareCount,
      reconnects: counters.reconnects,
      peers: this.live.size,
    };
  }

  /** Resolves when the server has processed every event given so far, waiting ones included (tests, benchmarks). */
  async flush(): Promise<void> {
    while (this.waiting.active && this.link.connected) await new Promise((r) => setTimeout(r, 5));
    await this.link.flush();
  }

  forPeer(peerKey: string): PeerInput {
    let peer = this.peers.get(peerKey);
    if (!peer) {
      peer = new X11PeerInput(peerKey, this.shared);
      this.peers.set(peerKey, peer);
    }
    this.live.add(peer);
    return peer;
  }

  /** Releases everything every peer holds, then closes the connection. */
  async close(): Promise<void> {
    if (this.link.isClosed) return;
    for (const peer of [...this.live]) peer.releaseAll();
    this.waiting.clear();
    this.keyboard.close();
    await this.link.close();
  }
}
