/**
 * Kernel clocks. ktime is CLOCK_MONOTONIC in nanoseconds, carried as a JS
 * number (exact up to 2^53 ns, i.e. 104 days of uptime). process.hrtime is
 * the same monotonic clock in every thread of the process, so timestamps
 * taken in different workers compare correctly.
 *
 * Jiffies: HZ = 1000, so one jiffy is one millisecond and timeouts given to
 * the wait functions are milliseconds.
 */
const hrtime = process.hrtime;

/** ktime_get(): CLOCK_MONOTONIC now, in ns. (hrtime() is cheaper than hrtime.bigint().) */
export function ktimeGet(): number {
  const t = hrtime();
  const ns = t[0] * 1e9 + t[1];
  if (batch.valid) batch.ns = ns;
  return ns;
}

/**
 * The clock shared by a burst of fence signals (see ktimeGetBatched): the
 * last reading taken in the current run of kernel code, and how many
 * signals have used it. `valid` drops at the end of the run (a microtask).
 */
const batch = { valid: false, ns: 0, uses: 0 };
/** Signals that share one reading at most. */
const BATCH_USES = 64;

function batchEnd(): void {
  batch.valid = false;
}

/**
 * ktime_get() for a fence signal, where reading the clock (~45 ns here)
 * costs twice the signal itself. Linux's signalling paths take one time for
 * a batch (dma_fence_signal_timestamp with one ktime); here every signal in
 * one synchronous run of kernel code shares the clock's last reading in
 * that run, for at most BATCH_USES signals. The value is never earlier than
 * any ktime_get() before it in the run, never later than now, and a new run
 * (the next syscall, timer or continuation) always reads the clock afresh.
 */
export function ktimeGetBatched(): number {
  if (batch.valid && batch.uses < BATCH_USES) {
    batch.uses++;
    return batch.ns;
  }
  const t = hrtime();
  batch.ns = t[0] * 1e9 + t[1];
  batch.uses = 1;
  if (!batch.valid) {
    batch.valid = true;
    queueMicrotask(batchEnd);
  }
  return batch.ns;
}

/** The kernel's boot time (first load of this module in this thread), ns. */
export const bootKtime = ktimeGet();

export const HZ = 1000;
export const NSEC_PER_SEC = 1_000_000_000;
export const NSEC_PER_MSEC = 1_000_000;

/** MAX_SCHEDULE_TIMEOUT (LONG_MAX in Linux): wait without a time limit. */
export const MAX_SCHEDULE_TIMEOUT = Number.MAX_SAFE_INTEGER;

/** jiffies: milliseconds of CLOCK_MONOTONIC. */
export function jiffies(): number {
  return Math.floor(ktimeGet() / NSEC_PER_MSEC);
}

export function msecsToJiffies(ms: number): number {
  return Math.ceil(ms * HZ / 1000);
}

export function jiffiesToMsecs(j: number): number {
  return j * 1000 / HZ;
}

/** setTimeout cannot take more than 2^31-1 ms; longer sleeps re-arm. */
const MAX_TIMER_MS = 0x7fffffff;

/**
 * A one-shot timer for `timeout` jiffies that survives timeouts longer than
 * Node's timer limit. MAX_SCHEDULE_TIMEOUT arms nothing (wait forever).
 * Returns a cancel function.
 */
export function armTimeout(timeout: number, fn: () => void): () => void {
  if (timeout >= MAX_SCHEDULE_TIMEOUT) return noop;
  let left = timeout;
  let timer: ReturnType<typeof setTimeout>;
  const step = (): void => {
    if (left <= MAX_TIMER_MS) {
      timer = setTimeout(fn, left);
    } else {
      left -= MAX_TIMER_MS;
      timer = setTimeout(step, MAX_TIMER_MS);
    }
  };
  step();
  return () => clearTimeout(timer);
}

function noop(): void {}
