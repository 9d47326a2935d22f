/**
 * Waiting on a descriptor with poll(): a timeout and an AbortSignal for
 * event-loop code, a plain blocking form where blocking is allowed.
 */
import type { ProcessLike as Process } from '../machine/process-api.js';

/** How long a wait may take: {@link DmaBuffer.wait}, {@link SyncFile.wait}, {@link DmaBuffer.accessAsync}. */
export interface WaitOptions {
  /** ms; Infinity (the default) waits for as long as it takes */
  timeout?: number;
  /** aborts the wait: the promise rejects with the signal's reason */
  signal?: AbortSignal;
}

/**
 * A wait that ran out of time (DOMException-like name, and Linux's errno code).
 *
 * @example
 * ```ts
 * try {
 *   await frame.wait('write', { timeout: 16 });
 * } catch (e) {
 *   if (e instanceof WaitTimeoutError) console.log('still busy after a frame time');
 *   else throw e;
 * }
 * ```
 */
export class WaitTimeoutError extends Error {
  /** what sync_file's and poll()'s timeouts report in Linux (ETIME) */
  readonly code = 'ETIME';
  constructor(what: string, ms: number) {
    super(`${what}: not signalled within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** poll()'s timeout is a C int of milliseconds: a longer wait is made of several polls. */
const POLL_MAX_MS = 2 ** 31 - 1;

/**
 * poll() one fd for `events` until ready, the timeout or the abort. An
 * abort cancels the poll inside the kernel (the process keeps no waiter
 * behind) and rejects with the signal's reason.
 */
export async function pollReady(proc: Process, fd: number, events: number, what: string, opts: WaitOptions = {}): Promise<void> {
  const { timeout = Infinity, signal } = opts;
  if (!(timeout >= 0)) throw new RangeError(`timeout must be a number of ms >= 0, not ${timeout}`);
  signal?.throwIfAborted();
  const deadline = performance.now() + timeout;
  const fds = [{ fd, events, revents: 0 }];
  for (;;) {
    const left = deadline - performance.now();
    const ms = timeout === Infinity ? -1 : Math.max(0, Math.ceil(Math.min(left, POLL_MAX_MS)));
    if ((await proc.pollAsync(fds, ms, { signal })) > 0) return;
    if (timeout !== Infinity && deadline - performance.now() <= 0) throw new WaitTimeoutError(what, timeout);
  }
}

/** The blocking form: poll() in this thread until ready or `timeoutMs`. */
export function pollReadySync(proc: Process, fd: number, events: number, what: string, timeoutMs = -1): void {
  const fds = [{ fd, events, revents: 0 }];
  if (proc.poll(fds, timeoutMs < 0 || timeoutMs === Infinity ? -1 : Math.ceil(timeoutMs)) === 0) throw new WaitTimeoutError(what, timeoutMs);
}
