// contract/: the shape every sink shares (json-lines, table, events-log, state-file, the metrics sinks): the pipeline writes each output event to each.

import type { OutputEvent } from './output-events.js';

/** A sink takes every output event as it happens and finishes its writes on close. */
export interface Sink {
  write(event: OutputEvent): void;
  close(): Promise<void>;
}
