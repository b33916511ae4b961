import { isIP } from 'node:net';
import { hostname } from 'node:os';
import type { Exposure } from './exposure.js';
import type { Config } from './options.js';

/**
 * What the person who started the server reads: what it streams, where to open the viewer and whether auth
 * is on. `essential` when it must reach them even if only a log collector seems to be reading: it carries
 * the generated token, or the warning that anyone who reaches the port controls the desktop.
 */
export interface StartupNotice {
  text: string;
  essential: boolean;
}

export function startupNotice(config: Config, exposure: Exposure, port: number): StartupNotice {
  const urls = viewerUrls(config, port);
  const query = exposure.kind === 'generated-token' ? `?token=${encodeURIComponent(exposure.token)}` : '';
  const lines = [
    `Streamgate streams ${describeSource(config)} on ${config.host} port ${port}. Open the viewer at:`,
    ...urls.map((url) => `    ${url}${query}`),
    ...authLines(config, exposure, port, urls),
  ];
  return { text: lines.join('\n'), essential: exposure.kind === 'generated-token' || exposure.kind === 'insecure-no-auth' };
}

function describeSource(config: Config): string {
  const { width, height } = config.resolution;
  switch (config.source) {
    case 'virtual':
      return `a virtual ${width}x${height} desktop running ${config.app}`;
    case 'test':
      return `a ${width}x${height} test pattern and tone`;
    case 'x11':
      return `X display ${config.display ?? '(none)'} ${config.audioServer ? `with the sound of ${config.audioServer}` : 'without sound (--audio-server names its PulseAudio)'}`;
  }
}

function authLines(config: Config, exposure: Exposure, port: number, urls: string[]): string[] {
  switch (exposure.kind) {
    case 'loopback':
      return ['Auth: off. Only this machine can connect (loopback); another --host serves others, with a token.'];
    case 'authenticated': {
      const how = config.authToken
        ? 'the --auth-token secret: add ?token=<it> to the URL, or send Authorization: Bearer <it>'
        : config.jwtSecret
          ? 'HS256 JWTs signed with --jwt-secret'
          : 'RS256/ES256 JWTs verified with --jwt-public-key';
      return [`Auth: on, with ${how}.`];
    }
    case 'generated-token':
      return [
        `Auth: on. Streamgate listens on ${config.host} port ${port}, beyond this machine, so it requires a token; the URL above carries one made up for this run.`,
        'Other clients send the same token (Authorization: Bearer, ?token=, or the bearer.<token> subprotocol).',
        'Set --auth-token (or a JWT option) to choose the credentials, or --insecure-no-auth to serve without any.',
      ];
    case 'insecure-no-auth':
      return [
        'Auth: off.',
        `WARNING: --insecure-no-auth: Streamgate serves the desktop WITHOUT AUTHENTICATION on ${config.host} port ${port}.`,
        `Anyone who can reach ${urls.join(' or ')} can watch it and type into it.`,
      ];
  }
}

/** Where a browser finds the viewer: the bound address, or for a wildcard bind this host's name and loopback. */
function viewerUrls(config: Config, port: number): string[] {
  const scheme = config.tlsCert ? 'https' : 'http';
  const wildcard = config.host === '0.0.0.0' || config.host === '::' || config.host === '[::]';
  const hosts = wildcard ? [hostname(), '127.0.0.1'] : [isIP(config.host) === 6 ? `[${config.host}]` : config.host];
  return hosts.map((host) => `${scheme}://${host}:${port}/`);
}
