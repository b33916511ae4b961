import type { RTCPeerConnection } from 'werift';
import { withTurnCredentials } from '../auth/turn-credentials.js';
import type { MediaSettings } from './types.js';

type PeerConfig = NonNullable<ConstructorParameters<typeof RTCPeerConnection>[0]>;

/**
 * The ICE part of a werift peer connection of session `user`, from the deployment's settings:
 *  - servers: only what is configured (werift's default is a public STUN server, unreachable from many hosts),
 *    TURN entries with REST credentials minted for this session when --turn-secret is set;
 *  - host addresses: werift gathers the machine's interfaces but leaves loopback out unless named; a 1:1 NAT's
 *    public address (--public-ip) is named too. werift binds each host socket to the wildcard address and
 *    announces the named address as its candidate, so traffic the NAT forwards to the private address reaches
 *    the same socket and port: no SDP rewriting needed (what Neko calls NAT1TO1);
 *  - ports: --udp-ports, werift's icePortRange (host sockets and the TURN client's socket alike).
 */
export function peerIceConfig(settings: MediaSettings, user: string): Pick<PeerConfig, 'iceServers' | 'iceAdditionalHostAddresses' | 'icePortRange'> {
  const hostAddresses = settings.publicAddress ? [...settings.iceAddresses, settings.publicAddress] : settings.iceAddresses;
  return {
    iceServers: withTurnCredentials(settings.iceServers, settings.turnRest, user),
    iceAdditionalHostAddresses: [...new Set(hostAddresses)],
    icePortRange: settings.udpPortRange ? [settings.udpPortRange[0], settings.udpPortRange[1]] : undefined,
  };
}
