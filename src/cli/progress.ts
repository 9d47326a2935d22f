/**
 * Where a command's output goes, and the progress line of a long run: on a
 * terminal one line rewritten in place (frames done, frames/s, time left),
 * erased before the next output; when the output is a pipe or a file,
 * nothing at all, so that what a script reads is only the results.
 */

/** A command's output: stdout, or a test's recorder. */
export interface Terminal {
  write(text: string): void;
  /** a terminal (progress is drawn) or a pipe/file (it is not) */
  readonly isTTY: boolean;
  /** the terminal's width, if known */
  readonly columns?: number;
}

/** process.stdout as a Terminal. */
export const stdoutTerminal: Terminal = {
  write: (text) => void process.stdout.write(text),
  get isTTY() {
    return process.stdout.isTTY === true;
  },
  get columns() {
    return process.stdout.columns;
  },
};

/** How often the line is redrawn at most: a terminal need not see every frame. */
const REDRAW_MS = 100;

/** A progress line for `total` items on `term` (a no-op unless it is a TTY). */
export class ProgressLine {
  private shown = false;
  private lastDraw = -Infinity;
  /** the first update: the rate counts from there, so that start-up time does not skew it */
  private first: { t: number; done: number } | null = null;

  constructor(
    private readonly term: Terminal,
    private readonly total: number,
    private readonly unit: string,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** `done` items so far: redraw the line (the first time at once, then at most every REDRAW_MS). */
  update(done: number): void {
    if (!this.term.isTTY || done >= this.total) return;
    const t = this.now();
    this.first ??= { t, done };
    if (this.shown && t - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = t;
    this.shown = true;
    this.term.write(`\r${this.text(done, t)}\x1b[K`);
  }

  /** Erase the line (before other output, and at the end). */
  clear(): void {
    if (!this.shown) return;
    this.shown = false;
    this.term.write('\r\x1b[K');
  }

  /** `[#####.........] 57/120 frames  48.3 frames/s  1.3 s left`, cut to the terminal's width. */
  text(done: number, t: number): string {
    const first = this.first ?? { t, done };
    const secs = (t - first.t) / 1000;
    const rate = secs > 0 ? (done - first.done) / secs : 0;
    const speed = rate > 0 ? `${rate.toFixed(1)} ${this.unit}/s  ${((this.total - done) / rate).toFixed(1)} s left` : '';
    const w = 20;
    const fill = Math.min(w, Math.round((done / this.total) * w));
    const line = `[${'#'.repeat(fill)}${'.'.repeat(w - fill)}] ${done}/${this.total} ${this.unit}  ${speed}`.trimEnd();
    const cols = this.term.columns;
    return cols && cols > 1 && line.length >= cols ? line.slice(0, cols - 1) : line;
  }
}
