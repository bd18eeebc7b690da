/** Live progress: one rewritten line on a terminal, a plain line per change otherwise (logs, pipes, CI). */
export class Progress {
  private last = '';

  constructor(private readonly out: NodeJS.WriteStream = process.stdout, private readonly tty = Boolean(process.stdout.isTTY)) {}

  /** `stable` is what counts as a change for plain output; `live` (elapsed time, spinner) only shows on a terminal. */
  update(stable: string, live = ''): void {
    if (this.tty) {
      this.out.write(`\r\x1b[K${stable}${live ? ` ${live}` : ''}`);
    } else if (stable !== this.last) {
      this.out.write(`${stable}\n`);
    }
    this.last = stable;
  }

  finish(line: string): void {
    if (this.tty) this.out.write('\r\x1b[K');
    this.out.write(`${line}\n`);
    this.last = '';
  }
}

const BAR = 24;

/** A bar for a phase sequence: filled up to the current phase. */
export function phaseBar(index: number, count: number): string {
  const filled = Math.round((Math.min(index, count) / count) * BAR);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}]`;
}
