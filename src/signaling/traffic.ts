/** Message and byte counts, kept per connection and summed for the server (the `network` stats section). */
export class Traffic {
  messagesIn = 0;
  messagesOut = 0;
  bytesIn = 0;
  bytesOut = 0;

  constructor(private readonly parent?: Traffic) {}

  received(bytes: number): void {
    this.messagesIn += 1;
    this.bytesIn += bytes;
    this.parent?.received(bytes);
  }

  sent(bytes: number): void {
    this.messagesOut += 1;
    this.bytesOut += bytes;
    this.parent?.sent(bytes);
  }

  snapshot(): { messages_in: number; messages_out: number; bytes_in: number; bytes_out: number } {
    return { messages_in: this.messagesIn, messages_out: this.messagesOut, bytes_in: this.bytesIn, bytes_out: this.bytesOut };
  }
}
