import type { RTCDataChannel } from 'werift';

/**
 * A viewer's `input` data channel (docs/protocol.md, "The input data channel"), both ways: the client's input
 * text goes to signaling, and a few server messages (`pointer`) go out on it instead of the WebSocket. The
 * client may open its own channel besides the server's: the latest one seen is the one sent on.
 */
export class ViewerChannel {
  private channel: RTCDataChannel | undefined;

  constructor(private readonly received: (text: string) => void) {}

  listen(channel: RTCDataChannel): void {
    this.channel = channel;
    channel.onMessage.subscribe((data) => {
      if (typeof data === 'string') this.received(data);
    });
  }

  /** Sends `text` if a channel is open; false tells the caller to use the WebSocket. */
  send(text: string): boolean {
    const channel = this.channel;
    if (channel?.readyState !== 'open') return false;
    try {
      channel.send(text);
      return true;
    } catch {
      return false;
    }
  }
}
