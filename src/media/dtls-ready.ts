import type { RTCPeerConnection } from 'werift';

/**
 * Returns a function that makes `ready` run whenever a DTLS transport of the peer connection it is given
 * completes its handshake, the moment SRTP can flow. werift turns the peer connection `connected` only once the
 * data channel's SCTP association is up too, 100–130 ms later on loopback (bench/notes/pageopen.md): a new
 * viewer's first keyframe, asked for at DTLS, arrives that much sooner. Each transport is watched once, however
 * many offers reuse it.
 */
export function dtlsReadyWatcher(ready: () => void): (pc: RTCPeerConnection) => void {
  const watched = new WeakSet<object>();
  return (pc) => {
    for (const transport of pc.dtlsTransports) {
      if (watched.has(transport)) continue;
      watched.add(transport);
      transport.onStateChange.subscribe((state) => {
        if (state === 'connected') ready();
      });
    }
  };
}
