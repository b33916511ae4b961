/**
 * The small part of npm `x11` (CommonJS, untyped) that XConnection uses: the handshake, the socket,
 * and the reply/event dispatch. Requests themselves are packed by XConnection.
 */
declare module 'x11' {
  import type { EventEmitter } from 'node:events';
  import type { Socket } from 'node:net';

  export interface XScreen {
    root: number;
    pixel_width: number;
    pixel_height: number;
    root_depth: number;
  }

  export interface XDisplay {
    screen: XScreen[];
    min_keycode: number;
    max_keycode: number;
    vendor: string;
    release: number;
  }

  /** An event as the library decodes it; fields depend on `type`. */
  export interface XRawEvent {
    type: number;
    name?: string;
    seq: number;
    wid?: number;
    keycode?: number;
    x?: number;
    y?: number;
    rootx?: number;
    rooty?: number;
    width?: number;
    height?: number;
    buttons?: number;
    time?: number;
    request?: number;
    firstKeyCode?: number;
    count?: number;
    overrideRedirect?: boolean | number;
    parent?: number;
    /** MapNotify/UnmapNotify/DestroyNotify: the window the event was selected on. */
    event?: number;
    /** ConfigureNotify: the window configured (`wid` is the window the event was selected on). */
    wid1?: number;
    rawData?: Buffer;
  }

  export interface XProtocolError extends Error {
    error: number;
    seq: number;
    badParam?: number;
    majorOpcode?: number;
    minorOpcode?: number;
  }

  export type ReplyParser = (this: XClient, data: Buffer, opt: number) => unknown;
  export type ReplyCallback = (err: XProtocolError | null, result?: unknown) => boolean | void;

  export interface XClient extends EventEmitter {
    display: XDisplay;
    seq_num: number;
    replies: Record<number, [ReplyParser, ReplyCallback]>;
    stream: Socket;
    terminate(): void;
  }

  export function createClient(
    options: { display?: string; disableBigRequests?: boolean },
    cb: (err: Error | undefined | null, display?: XDisplay) => void,
  ): XClient;

  const x11: { createClient: typeof createClient };
  export default x11;
}
