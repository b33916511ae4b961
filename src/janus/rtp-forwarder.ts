import { createSocket, type Socket } from 'node:dgram';
import { logger } from '../log.js';

const log = logger('janus.forwarder');

/**
 * Sends a copy of each RTP packet of one encoder to a mountpoint's port. Meant as a listener on the encoder's
 * loopback fan-out: Janus then serves any number of viewers from that one copy.
 */
export class RtpForwarder {
  packets = 0;
  private readonly socket: Socket = createSocket('udp4');

  constructor(
    readonly port: number,
    readonly host = '127.0.0.1',
  ) {
    this.socket.on('error', (err) => log.error({ err, port }, 'RTP forwarding socket error'));
  }

  forward(packet: Buffer): void {
    this.packets++;
    // Nobody waits on a datagram: an error (Janus gone → ECONNREFUSED from a previous send) only means this copy was lost.
    this.socket.send(packet, this.port, this.host, () => undefined);
  }

  close(): void {
    this.socket.close();
  }
}
