// sinks/: the shape every sink shares.

import type { OutputEvent } from '../contract/output-events.js';

/** A sink takes every output event as it happens and finishes its writes on close. */
export interface Sink {
  write(event: OutputEvent): void;
  close(): Promise<void>;
}
