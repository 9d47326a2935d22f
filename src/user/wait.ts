/**
 * Waiting on a descriptor with poll(): a timeout and an AbortSignal for
 * event-loop code, a plain blocking form where blocking is allowed.
 */
import type { Process } from '../machine/process.js';

export interface WaitOptions {
  /** ms; Infinity (the default) waits for as long as it takes */
  timeout?: number;
  /** aborts the wait: the promise rejects with the signal's reason */
  signal?: AbortSignal;
}

/** A wait that ran out of time (DOMException-like name, and Linux's errno code). */
export class WaitTimeoutError extends Error {
  readonly code = 'ETIME';
  constructor(what: string, ms: number) {
    super(`${what}: not signalled within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** The longest single poll while a signal may abort the wait: an abort lands within this. */
const SLICE_MS = 100;

/** poll() one fd for `events` until ready, the timeout or the abort. */
export async function pollReady(proc: Process, fd: number, events: number, what: string, opts: WaitOptions = {}): Promise<void> {
  const { timeout = Infinity, signal } = opts;
  if (!(timeout >= 0)) throw new RangeError(`timeout must be a number of ms >= 0, not ${timeout}`);
  signal?.throwIfAborted();
  const deadline = performance.now() + timeout;
  const fds = [{ fd, events, revents: 0 }];
  // Ready now? One non-blocking poll is the common, cheap case.
  if ((await proc.pollAsync(fds, 0)) > 0) return;
  let onAbort: (() => void) | undefined;
  const aborted = signal
    ? new Promise<never>((_, reject) => {
        onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
      })
    : null;
  try {
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) throw new WaitTimeoutError(what, timeout);
      // Without a signal, one poll for the whole wait (capped to poll's int range).
      const slice = Math.ceil(Math.min(left, signal ? SLICE_MS : 2 ** 31 - 1));
      const p = proc.pollAsync(fds, slice);
      if ((await (aborted ? Promise.race([p, aborted]) : p)) > 0) return;
    }
  } finally {
    if (onAbort) signal!.removeEventListener('abort', onAbort);
  }
}

/** The blocking form: poll() in this thread until ready or `timeoutMs`. */
export function pollReadySync(proc: Process, fd: number, events: number, what: string, timeoutMs = -1): void {
  const fds = [{ fd, events, revents: 0 }];
  if (proc.poll(fds, timeoutMs < 0 || timeoutMs === Infinity ? -1 : Math.ceil(timeoutMs)) === 0) throw new WaitTimeoutError(what, timeoutMs);
}
