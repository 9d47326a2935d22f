/**
 * What a pipeline stage notes about each frame it handles, for the trace
 * and the report: which frame, which ring buffer, the value its own fence
 * for that frame signals at, and four times. The marks cost no syscall
 * (the clock is read in the worker) and travel to the main thread in the
 * stage's final report, so recording them does not change what the
 * kernel sees.
 *
 * The times are ktime: process.hrtime is CLOCK_MONOTONIC in every thread,
 * the same clock the kernel stamps its trace records with, so a mark and
 * a tracepoint record compare directly.
 */

export type StageRole = 'producer' | 'processor' | 'consumer';

export interface FrameMark {
  pid: number;
  role: StageRole;
  frame: number;
  /** the ring index of the buffer the frame is in */
  buffer: number;
  /** the value of the stage's sw_sync timeline at which its fence for this frame signals */
  seqno: number;
  /**
   * ktime ns: [0] the stage began waiting for this frame's input (when it
   * finished the previous frame, or entered its loop), [1] the input came
   * (the previous stage's message; for the producer, the ring's buffer
   * back), [2] the buffer's fences were waited for (poll returned), [3]
   * done: its own fence signalled, before it tells the next stage.
   */
  t: [number, number, number, number];
}

/** ktime_get() from userspace: CLOCK_MONOTONIC in ns (the clock of the kernel's trace records). */
export function ktimeNs(): number {
  const t = process.hrtime();
  return t[0] * 1e9 + t[1];
}

/** A stage's marks; every method is a no-op when not recording. */
export class FrameMarks {
  readonly marks: FrameMark[] = [];
  private t: number[] = [];
  private lastDone = -1;

  constructor(private readonly on: boolean, private readonly pid: number, private readonly role: StageRole) {}

  /** The stage starts on its next frame: from here it waits for that frame's input. */
  begin(): void {
    if (this.on) this.t = [this.lastDone >= 0 ? this.lastDone : ktimeNs()];
  }

  /** The next step of the frame began: input came (first call), fences waited for (second call). */
  step(): void {
    if (this.on) this.t.push(ktimeNs());
  }

  /** The frame is done (its fence signalled). */
  done(frame: number, buffer: number, seqno: number): void {
    if (!this.on || this.t.length !== 3) return;
    this.lastDone = ktimeNs();
    this.marks.push({ pid: this.pid, role: this.role, frame, buffer, seqno, t: [this.t[0], this.t[1], this.t[2], this.lastDone] });
  }
}
