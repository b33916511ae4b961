export { JanusAdmin, type JanusAdminOptions, type SentMedia } from './janus-admin.js';
export { JanusError, JANUS_SESSION_NOT_FOUND, STREAMING_NO_SUCH_MOUNTPOINT } from './janus-error.js';
export { JanusGateway, type JanusGatewayOptions, type OwnMountpoint } from './janus-gateway.js';
export { JanusSession, type JanusSessionOptions } from './janus-session.js';
export { KeyframeRequests } from './keyframe-requests.js';
export { AUDIO_MID, VIDEO_MID, type MountpointSpec } from './mountpoint-spec.js';
export { RtpForwarder } from './rtp-forwarder.js';
export { StreamingHandle, type CreatedMountpoint, type StreamingEvents, type TrickleCandidate } from './streaming-handle.js';
export type { MountpointInfo, MountpointSummary } from './streaming-replies.js';
