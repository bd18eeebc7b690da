/**
 * Bytes at no more than a given rate: a token bucket with a quarter second of burst, as a Transform a stream is
 * piped through. What Ferry sends between nodes goes through one (migration_speed), so a transfer over the
 * network corosync also uses cannot fill the link and delay corosync's token until a node is fenced.
 */
import { Transform, type TransformCallback } from 'node:stream';

const BURST_S = 0.25;
const SLICE = 64 * 1024;

export class Pacer {
  private tokens: number;
  private last = performance.now();

  constructor(private readonly bytesPerSecond: number) {
    this.tokens = bytesPerSecond * BURST_S;
  }

  /** Milliseconds to wait before `bytes` may go. */
  delayFor(bytes: number): number {
    const now = performance.now();
    this.tokens = Math.min(this.bytesPerSecond * BURST_S, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
    this.last = now;
    this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.bytesPerSecond) * 1000;
  }
}

/** A pass-through at most `bytesPerSecond` (undefined or 0: no limit, no delay). */
export function pacedStream(bytesPerSecond: number | undefined): Transform {
  const pacer = bytesPerSecond ? new Pacer(bytesPerSecond) : undefined;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      if (!pacer) { done(null, chunk); return; }
      const push = (offset: number): void => {
        if (offset >= chunk.length) { done(); return; }
        const slice = chunk.subarray(offset, offset + SLICE);
        const wait = pacer.delayFor(slice.length);
        const go = () => { this.push(slice); push(offset + slice.length); };
        if (wait > 0) setTimeout(go, wait); else go();
      };
      push(0);
    },
  });
}
