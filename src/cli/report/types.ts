/**
 * The trace model's types: spans folded from the kernel's records, each
 * stage's handling of each frame (a leg), each frame's journey, and the
 * per-stage and latency summaries (see model.ts and journeys.ts). Times
 * are ns from the model's origin; indexes point into its arrays.
 */
import type { StageRole } from './marks.js';

export interface FenceSpan {
  timeline: string;
  context: number;
  seqno: number;
  /** ns from the trace's start */
  start: number;
  /** when it signalled, or null if it never did within the trace */
  end: number | null;
  /** the process that first put it on a buffer (DMA_BUF_IOCTL_IMPORT_SYNC_FILE), null if none did */
  owner: number | null;
  /** the frame it fenced (from its owner's marks), null if unknown */
  frame: number | null;
}

export interface BufferSpan {
  ino: number;
  name: string;
  exporter: string;
  size: number;
  start: number;
  end: number | null;
}

/** A poll() syscall, as the kernel saw it. */
export interface WaitSpan {
  pid: number;
  comm: string;
  start: number;
  dur: number;
  fds: string;
  ret: number;
}

/** A CPU access bracket (DMA_BUF_IOCTL_SYNC START returned .. END returned). */
export interface CpuAccessSpan {
  ino: number;
  pid: number;
  dir: string;
  start: number;
  /** null: never ended within the trace */
  end: number | null;
  /** ns the START call took (its implicit-sync wait) */
  wait: number;
  frame: number | null;
}

/** A fence a process put on a buffer (DMA_BUF_IOCTL_IMPORT_SYNC_FILE). */
export interface FenceAttach {
  ino: number;
  pid: number;
  /** index into TraceModel.fences */
  fence: number;
  usage: 'read' | 'write';
  at: number;
}

export interface ProcessInfo {
  pid: number;
  comm: string;
  /** the pipeline stage it is (from its marks), null for other processes */
  role: StageRole | null;
}

/** One stage's handling of one frame (a mark, joined with the kernel's records). */
export interface Leg {
  pid: number;
  frame: number;
  /** ring index */
  buffer: number;
  /** the buffer's inode (from the fence the stage attached), null if unknown */
  ino: number | null;
  /** how the stage used the buffer (its fence's usage) */
  access: 'read' | 'write' | null;
  /** ns from the origin: began waiting for input, input came, fences waited for, done */
  t: [number, number, number, number];
  /** index of the fence this stage attached for the frame */
  fence: number | null;
  /** index of the fence the wait [t1, t2] ended on: the last conflicting fence of the buffer to signal within it */
  waitedFor: number | null;
  /** the conflicting fences pending when the wait began */
  pending: number[];
  /** index of the poll() the wait made, if the trace has it */
  poll: number | null;
}

/** The parts of a frame's latency, in path order; they add up to the latency. */
export interface LatencyPart {
  what: 'busy' | 'queued' | 'fence';
  /** index into TraceModel.legs */
  leg: number;
  dur: number;
}

export interface Journey {
  frame: number;
  /** indexes into TraceModel.legs, in pipeline order */
  legs: number[];
  /** the first stage began working on it (its busy start) */
  start: number;
  /** the last stage was done with it */
  end: number;
  latency: number;
  parts: LatencyPart[];
}

export interface WaitCause {
  /** the process whose fence the waits ended on; null: nothing was pending (the wait cost only the syscall) */
  owner: number | null;
  count: number;
  dur: number;
}

export interface StageSummary {
  pid: number;
  comm: string;
  role: StageRole;
  frames: number;
  start: number;
  end: number;
  /** end - start = busy + fenceWait + inputWait */
  span: number;
  busy: number;
  fenceWait: number;
  /** the rest of the span: from finishing a frame to having the next frame's input */
  inputWait: number;
  causes: WaitCause[];
}

export interface LatencyStats {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface TraceModel {
  /** ns: the time everything else is relative to (ktime) */
  origin: number;
  /** ns: the last record or mark, from the origin */
  length: number;
  lost: number;
  /** pipeline order: producer, processors, consumer, then the other processes */
  processes: ProcessInfo[];
  fences: FenceSpan[];
  buffers: BufferSpan[];
  waits: WaitSpan[];
  access: CpuAccessSpan[];
  attached: FenceAttach[];
  legs: Leg[];
  journeys: Journey[];
  stages: StageSummary[];
  latency: LatencyStats | null;
}
