// Splits the byte stream of one trace_pipe_raw reader into whole ring-buffer pages.

/**
 * Each read(2) of trace_pipe_raw returns exactly one page, but the pipe between the reader
 * child and this process may join or split them. `push` calls `onPage` once per whole page,
 * with a view that is valid only during the call.
 */
export class PageStream {
  private readonly partial: Buffer;
  private filled = 0;

  constructor(
    readonly pageSize: number,
    private readonly onPage: (page: Buffer) => void,
  ) {
    this.partial = Buffer.alloc(pageSize);
  }

  push(chunk: Buffer): void {
    let off = 0;
    if (this.filled > 0) {
      const n = Math.min(this.pageSize - this.filled, chunk.length);
      chunk.copy(this.partial, this.filled, 0, n);
      this.filled += n;
      off = n;
      if (this.filled < this.pageSize) return;
      this.filled = 0;
      this.onPage(this.partial);
    }
    while (chunk.length - off >= this.pageSize) {
      this.onPage(chunk.subarray(off, off + this.pageSize));
      off += this.pageSize;
    }
    if (off < chunk.length) {
      chunk.copy(this.partial, 0, off);
      this.filled = chunk.length - off;
    }
  }

  /** Bytes waiting for the rest of their page. */
  get pending(): number {
    return this.filled;
  }
}
