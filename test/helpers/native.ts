/**
 * For the native backend's tests: whether it can run here (the reason to
 * skip when not), a machine per test file that must hold nothing at the
 * end, and processes in worker threads.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { bootNative, type NativeMachine } from '../../src/native/machine.js';
import { koffi } from '../../src/native/koffi.js';
import { checkDetach } from '../../src/native/detach.js';
import { spawnWorker, type WorkerProc } from './machine.js';

function unavailable(): string | false {
  try {
    koffi();
    checkDetach();
    return false;
  } catch (e) {
    return `native backend unavailable: ${(e as Error).message}`;
  }
}

/** false, or why the native backend cannot run on this host (pass as a test's `skip`). */
export const nativeSkip: string | false = unavailable();

/** One native machine for a test file, booted before its tests and shut down after them, when its processes must hold nothing. */
export function useNativeMachine(): () => Promise<NativeMachine> {
  let booted: Promise<NativeMachine> | null = null;
  const ready = (): Promise<NativeMachine> => (booted ??= bootNative());
  if (nativeSkip) return ready;
  before(ready);
  after(async () => {
    const left = await (await ready()).shutdown();
    assert.deepEqual(left, { processes: 0, fds: 0, mappings: 0, inFlight: 0, waits: 0 }, 'the machine\'s processes hold nothing at the end');
  });
  return ready;
}

/** A process of `machine` in a worker thread (spawnWorker of helpers/machine.ts: `attach` follows the handle's backend). */
export type NativeWorker<T> = WorkerProc<T>;

/**
 * Run `body` (the text of an async function body with `proc`, `u`,
 * `native`, `data`, `send(msg)` and `recv()` in scope) as a process of
 * `machine` in a worker thread. The worker is terminated when the body ends
 * or after `timeoutMs`.
 */
export function spawnNativeWorker<T = unknown>(machine: NativeMachine, body: string, data: unknown = null, timeoutMs = 120_000): NativeWorker<T> {
  const w = spawnWorker<T>(machine, body, data, timeoutMs);
  w.result.catch(() => {});
  return w;
}

/** Wait until `check()` is true, polling every few ms; fails after `timeoutMs`. */
export async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
