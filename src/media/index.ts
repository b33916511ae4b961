export { describePipeline, streamKey, type StreamSpec, type RtpTarget } from './pipeline-description.js';
