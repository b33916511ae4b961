import type { ClientMessageData } from '../protocol/index.js';
import { POINTER_CHANNEL_CAPABILITY, PRESS_RELEASE_CAPABILITY } from '../protocol/constants.js';
import { CLIENT_VERSION } from './version.js';

/** A resumable session: the last welcome's id and resume token. */
export interface ResumeTicket {
  session_id: string;
  resume_token: string;
}

/**
 * The `hello` this client registers with: what it is and runs on (merged with the `clientInfo`
 * option), what it can do, and the session to resume when there is one.
 */
export function helloData(extraInfo: Record<string, unknown>, resume: ResumeTicket | null, extraCapabilities: readonly string[] = []): ClientMessageData<'hello'> {
  const nav = typeof navigator !== 'undefined' ? navigator : undefined;
  const clientInfo: Record<string, unknown> = { sdk: 'streamgate-client', sdk_version: CLIENT_VERSION };
  if (nav?.userAgent) clientInfo.user_agent = nav.userAgent;
  if (nav?.language) clientInfo.language = nav.language;
  if (typeof screen !== 'undefined') clientInfo.screen_resolution = `${screen.width}x${screen.height}`;
  if (typeof devicePixelRatio === 'number') clientInfo.device_pixel_ratio = devicePixelRatio;
  const data: ClientMessageData<'hello'> = {
    client_info: { ...clientInfo, ...extraInfo },
    capabilities: ['webrtc', 'video', 'audio', 'input-events', 'mouse-wheel', PRESS_RELEASE_CAPABILITY, 'data-channel', 'resume', POINTER_CHANNEL_CAPABILITY, ...extraCapabilities],
    supported_protocols: ['1.0'],
  };
  if (resume) {
    data.session_id = resume.session_id;
    data.resume_token = resume.resume_token;
  }
  return data;
}
