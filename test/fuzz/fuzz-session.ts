// Fuzz harness: the unit every corpus entry and mutator works on — one capture's frames, in capture order.

/** One captured frame, as a capture source would hand it over. */
export interface FuzzFrame {
  /** Link-layer frame bytes. Mutators never change these in place: they replace the frame. */
  bytes: Uint8Array;
  /** Capture time, microseconds since the Unix epoch (an integer). */
  timestampUs: number;
}

/** A sequence of frames fed to one Pipeline: a recorded capture, or synthetic connections. */
export interface FuzzSession {
  /** Where it came from: a fixture file name or the synthetic generators used. */
  name: string;
  /** LINKTYPE_* of every frame. */
  linkType: number;
  frames: FuzzFrame[];
}

/** A shallow copy whose frame list can be rearranged without touching the original (frame bytes are shared, never mutated). */
export function copySession(session: FuzzSession): FuzzSession {
  return { name: session.name, linkType: session.linkType, frames: session.frames.map((f) => ({ bytes: f.bytes, timestampUs: f.timestampUs })) };
}
