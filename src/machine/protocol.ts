/**
 * The syscall channel between a process (any thread) and the kernel
 * thread: a SharedArrayBuffer of slots. A process writes a request into a
 * slot, bumps the slot's request number and rings the machine's doorbell;
 * the kernel answers in the same slot and bumps the response number, which
 * the process waits on (Atomics.wait, or waitAsync for the async twins).
 * Results that are not bytes (a SharedArrayBuffer to map, long text) come
 * back as a message on the process's MessagePort, read synchronously.
 *
 * Slot layout: Int32 ctl[16] (one cache line) | Float64 args[8] | Float64 ret | data[DATA_SIZE]
 */
import type { MessagePort } from 'node:worker_threads';

export const SLOTS = 4;
export const DATA_SIZE = 64 * 1024;
export const CTL_WORDS = 16;
export const ARGS = 8;
const HEADER = CTL_WORDS * 4 + ARGS * 8 + 8;
export const SLOT_BYTES = HEADER + DATA_SIZE;
/** Bytes before the first slot: the channel header (pid, flags). */
export const CHANNEL_HEADER = 64;
export const CHANNEL_BYTES = CHANNEL_HEADER + SLOTS * SLOT_BYTES;

/**
 * The machine's doorbell words: RING is bumped (and notified) by every
 * request; AWAKE is 1 while the kernel thread runs or spins, 0 while it
 * sleeps; DOWN is 1 once the machine shut down. A caller spins for its answer only while the kernel is awake: a
 * spinning caller can hold the very core the sleeping kernel would wake on.
 */
export const DOORBELL_RING = 0;
export const DOORBELL_AWAKE = 1;
/** 1 once the machine shut down: no syscall will be answered again */
export const DOORBELL_DOWN = 2;
/** bumped by every turn of the kernel thread's loop: a caller that sees it stand still knows the kernel is off its CPU */
export const DOORBELL_BEAT = 3;
/** the last pid handed out: the machine takes the next one for a new process (Atomics.add), so a channel knows its pid at once */
export const DOORBELL_LASTPID = 4;
export const DOORBELL_BYTES = 32;

/** ctl word indexes */
export const REQ = 0;
export const RESP = 1;
export const SYSNO = 2;
export const INLEN = 3;
export const OUTLEN = 4;
export const SIDE = 5;
/** 1 while the caller is blocked in Atomics.wait(Async) on RESP: only then does an answer need a notify */
export const WAITING = 6;
/** set by the caller to abandon the call in progress (an aborted async twin): the kernel interrupts it and answers */
export const CANCEL = 7;
/**
 * The number of a request that sleeps in the kernel: it had not finished
 * when the kernel had run everything it could (a poll for a fence no one
 * has signalled yet). A caller spinning for its answer stops and blocks:
 * spinning would only take the CPU from whoever is to wake it.
 */
export const SLEEPING = 8;

/** channel header words (Int32 at offset 0) */
export const H_PID = 0;
/** the process's state: H_ALIVE, or H_EXITED / H_KILLED once the kernel has torn it down */
export const H_STATE = 1;
/** signals sent to the process that have a handler, one bit each (1 << sig): the process runs the handlers and clears the bits */
export const H_SIGPENDING = 2;
/** the signal that killed the process (0 if it exited) */
export const H_KILLSIG = 3;
/** bumped (and notified) by the kernel on every signal and at the process's end: an idle process watches it */
export const H_EVENTS = 4;
export const H_ALIVE = 0;
export const H_EXITED = 1;
export const H_KILLED = 2;

/** A view of one slot. `words` is `args` seen as 64-bit integers (for u64 arguments). */
export class Slot {
  readonly ctl: Int32Array;
  readonly args: Float64Array;
  readonly words: BigUint64Array;
  readonly ret: Float64Array;
  readonly data: Uint8Array;
  constructor(sab: SharedArrayBuffer, index: number) {
    const base = CHANNEL_HEADER + index * SLOT_BYTES;
    this.ctl = new Int32Array(sab, base, CTL_WORDS);
    this.args = new Float64Array(sab, base + CTL_WORDS * 4, ARGS);
    this.words = new BigUint64Array(sab, base + CTL_WORDS * 4, ARGS);
    this.ret = new Float64Array(sab, base + CTL_WORDS * 4 + ARGS * 8, 1);
    this.data = new Uint8Array(sab, base + HEADER, DATA_SIZE);
  }
}

/** What a side message carries: what cannot travel in the slot. */
export type SideBody =
  | { kind: 'map'; sab: SharedArrayBuffer; byteOffset: number; byteLength: number }
  | { kind: 'text'; text: string };

/** A side message: the body, and the slot and request it answers. */
export type SideMessage = SideBody & { slot: number; seq: number };

/** What a thread needs to become a process of a machine (postMessage-able). */
export interface ProcessHandle {
  /** the process's syscall slots, shared with the kernel thread */
  channel: SharedArrayBuffer;
  /** the word the kernel thread sleeps on (Atomics.wait) until a call arrives */
  doorbell: SharedArrayBuffer;
  /** the process's side channel (fd passing, signals, traces); put it in the transferList */
  port: MessagePort;
  /** the new process's pid (known before it attaches, so it can be shared with no handshake) */
  pid: number;
}

/** One recorded trace event: a tracepoint, or a syscall that may block (sys_poll). */
export interface TraceRecord {
  event: string;
  /** ktime ns (CLOCK_MONOTONIC, the same clock as process.hrtime in every thread) */
  ts: number;
  fields: Record<string, string | number | boolean>;
}
