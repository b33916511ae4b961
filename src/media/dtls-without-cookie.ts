import type { RTCDtlsTransport } from 'werift';

type DtlsSocket = NonNullable<RTCDtlsTransport['dtls']>;
type Handshake = Parameters<DtlsSocket['onHandleHandshakes']>[0][number];

const CLIENT_HELLO = 1;
/** A ClientHello body: version (2), random (32), then session_id and cookie, each behind a one-byte length. */
const SESSION_ID_AT = 34;
/** werift's server caches the ClientHello it answers under its flight 4 (the transcript the Finished messages sign). */
const SERVER_HELLO_FLIGHT = 4;

/**
 * Makes werift's DTLS server answer the browser's first ClientHello with its ServerHello flight, not with a
 * HelloVerifyRequest. The cookie round trip guards a server against spoofed sources (RFC 6347 4.2.1); over ICE the
 * peer's address is verified already by the STUN checks, and browsers' own DTLS servers do not use it. It cost one
 * round trip and more: Chromium answered the HelloVerifyRequest 50–120 ms late on the bench (bench/notes/pageopen.md,
 * "Profiled, and the handshake fixed"). werift has no option for it, so its own path is reused: the cookie werift makes is put into the hello
 * it is given (as if the browser had sent it back), the ServerHello gets the handshake's first message number (0,
 * not the 1 it would have after a HelloVerifyRequest), and the transcript keeps the hello the browser really sent.
 * Called on a server socket right after it is created, before any packet reaches it.
 */
export function answerHelloWithoutCookie(socket: DtlsSocket): void {
  const handle = socket.onHandleHandshakes;
  socket.onHandleHandshakes = (assembled) => {
    const hello = assembled.find((h) => h.msg_type === CLIENT_HELLO);
    if (!hello || socket.connected || cookieOf(hello.fragment).length > 0) return handle(assembled);
    if (!socket.dtls.cookie) {
      // werift's cookie step negotiates the suite, curve and SRTP profile and makes the cookie: run it, unsent.
      const send = socket.transport.send;
      Object.assign(socket.transport, { send: () => Promise.resolve() });
      const negotiated = handle([hello]);
      Object.assign(socket.transport, { send });
      if (!socket.dtls.cookie) return negotiated;
    }
    const withCookie = Object.assign(Object.create(Object.getPrototypeOf(hello) as object) as Handshake, hello);
    withCookie.fragment = insertCookie(hello.fragment, socket.dtls.cookie);
    withCookie.length = withCookie.fragment_length = withCookie.fragment.length;
    const answered = withFirstMessageSeq(socket, () => handle(assembled.map((h) => (h === hello ? withCookie : h))));
    const cached = socket.dtls.handshakeCache[SERVER_HELLO_FLIGHT]?.data;
    const at = cached?.indexOf(withCookie) ?? -1;
    if (cached && at >= 0) cached[at] = hello;
    return answered;
  };
}

function cookieOf(body: Buffer): Buffer {
  const at = SESSION_ID_AT + 1 + (body[SESSION_ID_AT] ?? 0);
  return body.subarray(at + 1, at + 1 + (body[at] ?? 0));
}

function insertCookie(body: Buffer, cookie: Buffer): Buffer {
  const at = SESSION_ID_AT + 1 + body[SESSION_ID_AT]!;
  return Buffer.concat([body.subarray(0, at), Buffer.from([cookie.length]), cookie, body.subarray(at + 1)]);
}

/**
 * werift's flight 4 numbers its first message 1 (it follows a HelloVerifyRequest, message 0) by setting the
 * context's counter synchronously as it starts: that one assignment is made 0.
 */
function withFirstMessageSeq<T>(socket: DtlsSocket, run: () => T): T {
  const context = socket.dtls;
  let value = context.sequenceNumber;
  let first = true;
  Object.defineProperty(context, 'sequenceNumber', {
    configurable: true,
    enumerable: true,
    get: () => value,
    set: (next: number) => {
      value = first && next === 1 ? 0 : next;
      first = false;
    },
  });
  try {
    return run();
  } finally {
    Object.defineProperty(context, 'sequenceNumber', { configurable: true, enumerable: true, writable: true, value });
  }
}
