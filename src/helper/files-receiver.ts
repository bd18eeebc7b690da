/**
 * Receiving a container's files (storage=none, migrate/file-sync.ts): the request names the tree's path on this
 * node (ROOT, the same on every node) and the migration; the bytes are first the paths to remove (NUL-separated,
 * as many bytes as announced), then a tar stream in frames (a 4-byte big-endian length, that many bytes; a
 * length of 0 ends it). Everything lands in ROOT.ferry-incoming-ID (storage/file-tree/places.ts), never in ROOT:
 * only the target's restore makes the copy the container's.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { FilesRequest } from './protocol.js';
import { clearLeftovers, incomingDir } from '../storage/file-tree/places.js';
import { removePaths } from '../storage/file-tree/deletions.js';
import { untarInto } from '../storage/file-tree/tar.js';

export class FilesReceiver {
  readonly dir: string;
  private removals = Buffer.alloc(0);
  private removalsLeft: number;
  private frame = Buffer.alloc(0);
  private ended = false;
  private readonly tar: ReturnType<typeof untarInto>;
  private tarExited = false;
  /** Tar bytes so far (the removal list not counted). */
  received = 0;
  removedPaths = 0;
  readonly cleared: string[] = [];

  /**
   * `flow` pauses the connection while tar is behind, so a fast link does not pile bytes up in memory here;
   * `flow.failed` hears of a tar that ended before the stream did (it will never drain).
   */
  constructor(request: FilesRequest, private readonly maxBytes: number, private readonly flow: { pause(): void; resume(): void; failed(why: string): void }) {
    this.dir = incomingDir(request.root, request.transfer);
    if (request.first) {
      this.cleared = clearLeftovers(request.root);
      mkdirSync(this.dir, { mode: 0o700 });
    } else if (!existsSync(this.dir)) {
      throw new Error(`no copy of ${request.root} for migration ${request.transfer} was started here`);
    }
    this.removalsLeft = request.removeBytes;
    this.tar = untarInto(this.dir);
    // tar stops reading at the archive's end marker, which may come before our own end frame: that is no failure
    this.tar.done.then(
      () => { this.tarExited = true; flow.resume(); },
      (err: unknown) => { this.tarExited = true; if (!this.ended) flow.failed(err instanceof Error ? err.message : String(err)); },
    );
  }

  get complete(): boolean { return this.ended; }

  write(chunk: Buffer): void {
    let data = chunk;
    if (this.removalsLeft > 0) {
      const take = Math.min(this.removalsLeft, data.length);
      this.removals = Buffer.concat([this.removals, data.subarray(0, take)]);
      this.removalsLeft -= take;
      data = data.subarray(take);
      if (this.removalsLeft === 0) this.applyRemovals();
    }
    if (data.length === 0) return;
    if (this.ended) throw new Error('bytes after the end of the files');
    this.frame = Buffer.concat([this.frame, data]);
    while (this.frame.length >= 4 && !this.ended) {
      const length = this.frame.readUInt32BE(0);
      if (length === 0) {
        this.ended = true;
        if (this.frame.length > 4) throw new Error('bytes after the end of the files');
        if (!this.tarExited) this.tar.sink.end();
        return;
      }
      if (this.frame.length < 4 + length) return;
      this.received += length;
      if (this.received > this.maxBytes) throw new Error(`files of more than ${this.maxBytes} bytes refused`);
      if (!this.tarExited && !this.tar.sink.write(this.frame.subarray(4, 4 + length))) {
        this.flow.pause();
        this.tar.sink.once('drain', () => this.flow.resume());
      }
      this.frame = this.frame.subarray(4 + length);
    }
  }

  private applyRemovals(): void {
    const paths = this.removals.toString('utf8').split('\0').filter((p) => p !== '');
    this.removedPaths = removePaths(this.dir, paths);
  }

  /** Once complete: resolves when tar has written everything. */
  finish(): Promise<void> { return this.tar.done; }

  abort(): void { this.tar.abort(); }
}
