/**
 * Writing one announced transfer to disk: files land in RESOURCE/images/.incoming-TRANSFER (0700, files 0600) and
 * the directory is renamed to RESOURCE/images/TRANSFER (where the agent's state store looks for checkpoint
 * images) only once every announced byte has arrived. Anything short, long or
 * interrupted removes the partial directory: nothing half-received is ever left for a restore to trip on.
 * Pre-copy rounds (request.part) land in RESOURCE/images/.parts-TRANSFER/pre-N the same way, and the final transfer
 * moves them inside itself before its own rename, so the checkpoint appears whole or not at all.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ReceiveRequest } from './protocol.js';
import { listQuietly } from '../util/files.js';

export class Receiver {
  private readonly partial: string;
  readonly finalPath: string;
  private index = 0;
  private left: number;
  private fd: number | undefined;
  received = 0;

  private readonly partsDir: string;

  constructor(root: string, private readonly request: ReceiveRequest) {
    const base = join(root, request.resource, 'images');
    mkdirSync(base, { recursive: true, mode: 0o700 });
    this.partsDir = join(base, `.parts-${request.transfer}`);
    this.partial = join(base, `.incoming-${request.transfer}${request.part ? `-${request.part}` : ''}`);
    this.finalPath = request.part ? join(this.partsDir, request.part) : join(base, request.transfer);
    rmSync(this.partial, { recursive: true, force: true });
    mkdirSync(this.partial, { mode: 0o700 });
    this.left = request.files[0]?.size ?? 0;
    this.openCurrent();
  }

  private openCurrent(): void {
    const file = this.request.files[this.index];
    this.fd = file ? openSync(join(this.partial, file.name), 'wx', 0o600) : undefined;
  }

  private advance(): void {
    while (this.left === 0 && this.index < this.request.files.length) {
      if (this.fd !== undefined) closeSync(this.fd);
      this.index += 1;
      this.left = this.request.files[this.index]?.size ?? 0;
      this.openCurrent();
    }
  }

  get complete(): boolean {
    this.advance();
    return this.index >= this.request.files.length;
  }

  /** Writes a chunk; throws when it goes beyond what was announced. */
  write(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      this.advance();
      if (this.fd === undefined) throw new Error('more bytes than announced');
      const n = Math.min(this.left, chunk.length - offset);
      writeSync(this.fd, chunk, offset, n);
      offset += n;
      this.left -= n;
      this.received += n;
    }
    this.advance();
  }

  finish(): string {
    if (!this.complete) throw new Error('transfer incomplete');
    for (const link of this.request.links ?? []) symlinkSync(link.target, join(this.partial, link.name));
    if (this.request.part) {
      mkdirSync(this.partsDir, { recursive: true, mode: 0o700 });
    } else if (existsSync(this.partsDir)) {
      for (const part of readdirSync(this.partsDir)) renameSync(join(this.partsDir, part), join(this.partial, part));
      rmSync(this.partsDir, { recursive: true, force: true });
    }
    rmSync(this.finalPath, { recursive: true, force: true });
    renameSync(this.partial, this.finalPath);
    return this.finalPath;
  }

  abort(): void {
    if (this.fd !== undefined) { try { closeSync(this.fd); } catch { /* already closed */ } }
    this.fd = undefined;
    rmSync(this.partial, { recursive: true, force: true });
  }
}

/** Partial transfers and orphaned rounds a killed helper left behind (only the helper writes them, so at its start none is live). */
export function dropPartialTransfers(root: string): string[] {
  const removed: string[] = [];
  for (const resource of listQuietly(root)) {
    const images = join(root, resource, 'images');
    for (const entry of listQuietly(images)) {
      if (!entry.startsWith('.incoming-') && !entry.startsWith('.parts-')) continue;
      rmSync(join(images, entry), { recursive: true, force: true });
      removed.push(join(images, entry));
    }
  }
  return removed;
}

