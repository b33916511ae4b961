import type { RTCDtlsTransport, RTCPeerConnection } from 'werift';
import { answerHelloWithoutCookie } from './dtls-without-cookie.js';

/** More than a browser sends before its first answer (a ClientHello and a few retransmissions). */
const MAX_EARLY_PACKETS = 8;

/** RFC 7983's demultiplexing: a first byte of 20–63 is DTLS (werift's own test, not exported). */
const isDtls = (packet: Buffer): boolean => packet.length > 0 && packet[0]! >= 20 && packet[0]! <= 63;

const kept = new WeakSet<RTCDtlsTransport>();

/**
 * Keeps the DTLS packets a peer sends before werift's DTLS server exists and hands them to it when it starts.
 * The browser answers and, as soon as one of its ICE checks is answered (werift answers checks at once), sends its
 * ClientHello; werift creates its DTLS socket only after its own checks nominate a pair, and drops what came
 * before. The browser then waits for its retransmission timer (~50–200 ms) with nothing lost but time
 * (bench/notes/pageopen.md, "Profiled, and the handshake fixed"). Call once the offer is made (the transports exist)
 * and before it is sent (the browser can check, and say hello, as soon as it has applied it). Each transport is
 * kept once, however many offers reuse it; a transport already started is left alone. A DTLS server is also made to
 * answer the first hello without a cookie round trip (dtls-without-cookie.ts) before the kept packets reach it.
 */
export function keepEarlyDtls(pc: RTCPeerConnection, onReplayed?: (packets: number) => void): void {
  for (const transport of pc.dtlsTransports) {
    if (kept.has(transport) || transport.state !== 'new') continue;
    kept.add(transport);
    const early: Buffer[] = [];
    const listening = transport.iceTransport.connection.onData.subscribe((packet: Buffer) => {
      if (!transport.dtls && isDtls(packet) && early.length < MAX_EARLY_PACKETS) early.push(Buffer.from(packet));
    });
    const start = transport.start.bind(transport);
    transport.start = (): Promise<void> => {
      listening.unSubscribe();
      transport.start = start;
      // start() creates the DTLS socket and its listeners before its first await: the packets go in after that,
      // in the order they came, as if they had arrived now.
      const started = start();
      const dtls = transport.dtls;
      if (dtls && transport.role === 'server') answerHelloWithoutCookie(dtls);
      const packets = early.splice(0);
      if (dtls && packets.length > 0) {
        for (const packet of packets) dtls.transport.socket.onData(packet, ['', 0] as const);
        onReplayed?.(packets.length);
      }
      return started;
    };
  }
}
