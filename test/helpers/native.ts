/**
 * For the native backend's tests: whether it can run here (the reason to
 * skip when not), a machine per test file that must hold nothing at the
 * end, and processes in worker threads.
 */
import { Worker } from 'node:worker_threads';
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { bootNative, type NativeMachine } from '../../src/native/machine.js';
import { koffi } from '../../src/native/koffi.js';
import { checkDetach } from '../../src/native/detach.js';

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

const nativeUrl = new URL('../../src/native/index.js', import.meta.url).href;
const uapiUrl = new URL('../../src/uapi/index.js', import.meta.url).href;

export interface NativeWorker<T> {
  worker: Worker;
  pid: number;
  /** resolves to the body's return value */
  result: Promise<T>;
  /** the next message the body sent with send() */
  next(): Promise<unknown>;
  /** post a message the body can await with recv() */
  post(msg: unknown): void;
  /** resolves with the worker's exit code */
  exited: Promise<number>;
}

/**
 * Run `body` (the text of an async function body with `proc`, `u`,
 * `native`, `data`, `send(msg)` and `recv()` in scope) as a process of
 * `machine` in a worker thread. The worker is terminated when the body ends
 * or after `timeoutMs`.
 */
export function spawnNativeWorker<T = unknown>(machine: NativeMachine, body: string, data: unknown = null, timeoutMs = 20_000): NativeWorker<T> {
  const handle = machine.channel('worker');
  const code = `
    const native = await import(${JSON.stringify(nativeUrl)});
    const u = await import(${JSON.stringify(uapiUrl)});
    const { workerData, parentPort } = await import('node:worker_threads');
    const proc = native.attachNative(workerData.handle);
    const data = workerData.data;
    const inbox = [];
    let waiter = null;
    parentPort.on('message', (m) => { if (waiter) { const w = waiter; waiter = null; w(m); } else inbox.push(m); });
    const recv = () => inbox.length ? Promise.resolve(inbox.shift()) : new Promise((r) => (waiter = r));
    const send = (m) => parentPort.postMessage({ kind: 'msg', m });
    try {
      const result = await (async () => { ${body} })();
      parentPort.postMessage({ kind: 'done', result });
    } catch (e) {
      parentPort.postMessage({ kind: 'error', error: { message: e.message, code: e.code, stack: e.stack } });
    }
    parentPort.unref();
  `;
  const worker = new Worker(code, { eval: true, workerData: { handle, data }, transferList: [handle.port] } as never);
  const inbox: unknown[] = [];
  const waiters: ((m: unknown) => void)[] = [];
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  let timer: ReturnType<typeof setTimeout>;
  const result = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`worker did not finish in ${timeoutMs} ms`)), timeoutMs);
    worker.on('message', (msg: { kind: string; m?: unknown; result?: T; error?: { message: string; code?: string; stack?: string } }) => {
      if (msg.kind === 'msg') {
        const w = waiters.shift();
        if (w) w(msg.m);
        else inbox.push(msg.m);
      } else if (msg.kind === 'done') resolve(msg.result as T);
      else if (msg.kind === 'error') reject(Object.assign(new Error(msg.error!.message), { code: msg.error!.code, stack: msg.error!.stack }));
    });
    worker.on('error', reject);
    void exited.then((code) => reject(new Error(`worker exited (${code}) before finishing`)));
  }).finally(() => {
    clearTimeout(timer);
    void worker.terminate();
  });
  result.catch(() => {});
  return {
    worker,
    pid: handle.pid,
    result,
    exited,
    next: () => (inbox.length ? Promise.resolve(inbox.shift()) : new Promise((r) => waiters.push(r))),
    post: (m) => worker.postMessage(m),
  };
}

/** Wait until `check()` is true, polling every few ms; fails after `timeoutMs`. */
export async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
