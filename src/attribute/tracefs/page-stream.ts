// Splits what is read from one CPU's trace_pipe_raw into whole ring-buffer pages.

/**
 * Each read(2) of trace_pipe_raw returns one page; a shorter read is kept and joined with
 * the next, and several pages in one chunk are split. `push` calls `onPage` once per whole
 * page, with a view that is valid only during the call (the chunk may be a reused buffer).
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
}
