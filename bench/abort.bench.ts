/**
 * Aborting a wait that sleeps in the kernel (an async poll on an unsignalled
 * sync file, `{ signal }`): the abort reaches the kernel as a signal would,
 * the call leaves its wait queue (EINTR inside) and the promise rejects
 * with the signal's reason.
 * - abort-to-settle: from controller.abort() to the promise's rejection;
 * - abort-to-next-call: from abort() until the next call (fcntl F_GETFL,
 *   blocking) has its answer: the process's slot is free at once.
 * Against the same kind of call made on a quiet machine (the kernel thread
 * has parked, as it has while a process sleeps in poll): the floor of any
 * wake-up of the kernel — an async call for the settle, a blocking one for
 * the next call.
 */
import { boot, type Process } from '../src/index.js';
import * as u from '../src/uapi/index.js';
import type { Row } from './harness.js';

export const title = 'aborting a call that sleeps in the kernel';

const nowUs = (): number => Number(process.hrtime.bigint()) / 1000;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** block this thread for ms, so the kernel thread finds nothing to do and parks */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function syncFile(proc: Process, timeline: number, value: number): number {
  const arg = u.sw_sync_create_fence_data.encode({ value, name: new TextEncoder().encode('abort-bench') });
  proc.ioctl(timeline, u.SW_SYNC_IOC_CREATE_FENCE, arg);
  return u.sw_sync_create_fence_data.get(arg, 'fence');
}

export async function run(): Promise<Row[]> {
  const machine = await boot();
  try {
    const proc = machine.spawn('abort-bench');
    const timeline = proc.open('/sys/kernel/debug/sync/sw_sync', u.O_RDWR);
    const fence = syncFile(proc, timeline, 1);
    const settle: number[] = [];
    const next: number[] = [];
    const quiet: number[] = [];
    const quietAsync: number[] = [];
    for (let i = 0; i < 200; i++) {
      // The baseline: one call from a quiet machine.
      pause(3);
      let t0 = nowUs();
      proc.fcntl(fence, u.F_GETFL);
      quiet.push(nowUs() - t0);
      pause(3);
      t0 = nowUs();
      await proc.fcntlAsync(fence, u.F_GETFL);
      quietAsync.push(nowUs() - t0);

      const ac = new AbortController();
      const waiting = proc.pollAsync([{ fd: fence, events: u.POLLIN, revents: 0 }], -1, { signal: ac.signal });
      // Let the call reach the kernel and go to sleep there, and the kernel thread park.
      await new Promise((r) => setTimeout(r, 3));
      t0 = nowUs();
      ac.abort();
      const outcome = await waiting.then(
        () => 'answered',
        (e: unknown) => (e === ac.signal.reason ? 'aborted' : String(e)),
      );
      settle.push(nowUs() - t0);
      if (outcome !== 'aborted') throw new Error(`an aborted poll ended with ${outcome}, not the abort's reason`);
      proc.fcntl(fence, u.F_GETFL);
      next.push(nowUs() - t0);
    }
    proc.close(fence);
    proc.close(timeline);
    proc.exit();
    const q = median(quiet);
    const qa = median(quietAsync);
    return [
      { name: 'abort-to-settle (poll asleep in the kernel -> rejected)', value: median(settle), unit: 'µs', baseline: { name: 'one async call, kernel parked', value: qa }, ratio: median(settle) / qa },
      { name: 'abort-to-next-call (the next call answered)', value: median(next), unit: 'µs', baseline: { name: 'one call, kernel parked', value: q }, ratio: median(next) / q },
    ];
  } finally {
    await machine.shutdown();
  }
}
