import { networkInterfaces } from 'node:os';
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

/**
 * UDP ports one viewer's peer connection binds: one per host address werift gathers on (the machine's
 * non-internal, non-link-local interfaces, as werift selects them, plus the named ones), and one for the TURN
 * client when a turn: server is configured. An estimate: interfaces can come and go while the server runs.
 */
export function udpPortsPerViewer(settings: MediaSettings): number {
  const interfaces = Object.values(networkInterfaces())
    .flatMap((addresses) => addresses ?? [])
    .filter((i) => !i.internal && !/^(fe80:|169\.254\.)/i.test(i.address))
    .map((i) => i.address);
  const named = settings.publicAddress ? [...settings.iceAddresses, settings.publicAddress] : settings.iceAddresses;
  const turn = settings.iceServers.some((s) => [s.urls].flat().some((url) => /^turns?:/i.test(url))) ? 1 : 0;
  return new Set([...named, ...interfaces]).size + turn;
}

/**
 * With --udp-ports, a line saying how many viewers the range serves when that is fewer than `viewers`
 * (--max-peers): past it a new viewer's offer carries no candidate on the addresses left without a port, and a
 * viewer left with none cannot connect (werift binds nothing outside the range). Undefined when it fits.
 */
export function udpPortShortfall(settings: MediaSettings, viewers: number): string | undefined {
  if (!settings.udpPortRange) return undefined;
  const [min, max] = settings.udpPortRange;
  const perViewer = udpPortsPerViewer(settings);
  const fits = Math.floor((max - min + 1) / perViewer);
  if (fits >= viewers) return undefined;
  return `--udp-ports ${min}-${max} gives ${max - min + 1} ports, ${perViewer} per viewer here: ${fits} viewers at once, fewer than --max-peers ${viewers}; later viewers cannot connect until one leaves`;
}
