/**
 * Where sound can be recorded: a PulseAudio server and one of its sources (typically a sink's monitor).
 * The desktop says where its sound is and media records it, so the type lives below both.
 */
export interface PulseCapture {
  /** As in PULSE_SERVER and pulsesrc's `server`, e.g. `unix:/tmp/streamgate-pulse-…/native`. */
  server: string;
  /** As in pactl and pulsesrc's `device`, e.g. `streamgate.monitor` or `@DEFAULT_MONITOR@`. */
  device: string;
}
