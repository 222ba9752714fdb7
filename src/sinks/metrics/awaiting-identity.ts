// sinks/metrics/: the metrics while the instance identity is not known yet. At boot the agent starts
// before the network, so IMDS does not answer its identity call; the request events seen meanwhile
// are held (bounded) and handed, oldest first, to the metrics sink the daemon makes once it has
// the identity. Their intervals follow the events' own times, so nothing is counted late.

import type { Sink } from '../../contract/sink.js';
import type { OutputEvent } from '../../contract/output-events.js';

export class AwaitingIdentitySink implements Sink {
  private inner: Sink | null = null;
  private held: OutputEvent[] = [];
  private dropped = 0;

  /** @param maxHeld request events kept at most; later ones are counted as dropped. */
  constructor(private readonly maxHeld: number) {}

  write(event: OutputEvent): void {
    if (this.inner !== null) {
      this.inner.write(event);
      return;
    }
    // imds-sniff's own calls (the identity attempts among them) are never counted.
    if (event.event !== 'imds_request' || event.own) return;
    if (this.held.length >= this.maxHeld) this.dropped += 1;
    else this.held.push(event);
  }

  /** From now on events go to `sink`; the held ones first. Says how many were held and dropped. */
  attach(sink: Sink): { held: number; dropped: number } {
    if (this.inner !== null) throw new Error('the metrics sink is attached already');
    const held = this.held;
    this.held = [];
    this.inner = sink;
    for (const event of held) sink.write(event);
    return { held: held.length, dropped: this.dropped };
  }

  /** Request events held so far (and not dropped). */
  get heldCount(): number {
    return this.held.length;
  }

  get waiting(): boolean {
    return this.inner === null;
  }

  async close(): Promise<void> {
    await this.inner?.close();
  }
}
