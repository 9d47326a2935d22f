/**
 * Run a process in a worker thread of a machine: `body` is the text of an
 * async function body with `proc` (the worker's Process), `u` (the uapi),
 * `user` (the userspace library) and `data` in scope, and `send(msg)` to talk to the parent. Resolves to
 * what the body returns; every worker is terminated when done.
 */
import { Worker } from 'node:worker_threads';
import { accessSync, constants, existsSync } from 'node:fs';
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { boot, type BootOptions, type Machine } from '../../src/index.js';
import type { ProcessLike as Process } from '../../src/machine/process-api.js';
import * as u from '../../src/uapi/index.js';

const indexUrl = new URL('../../src/index.js', import.meta.url).href;
const uapiUrl = new URL('../../src/uapi/index.js', import.meta.url).href;
const userUrl = new URL('../../src/user/index.js', import.meta.url).href;
const nativeUrl = new URL('../../src/native/index.js', import.meta.url).href;

export interface WorkerProc<T> {
  worker: Worker;
  /** the worker's process id */
  pid: number;
  /** resolves to the worker thread's exit code */
  exited: Promise<number>;
  /** resolves to the body's return value */
  result: Promise<T>;
  /** messages the body sent with send() */
  messages: unknown[];
  /** the next message from the body */
  next(): Promise<unknown>;
  /** post a message the body can await with recv() */
  post(msg: unknown): void;
}

export function spawnWorker<T = unknown>(machine: Machine, body: string, data: unknown = null, timeoutMs = 120_000): WorkerProc<T> {
  const handle = machine.channel('worker');
  const code = `
    const { attach } = await import(${JSON.stringify(indexUrl)});
    const u = await import(${JSON.stringify(uapiUrl)});
    const user = await import(${JSON.stringify(userUrl)});
    const native = ${machine.backend === 'linux' ? `await import(${JSON.stringify(nativeUrl)})` : 'null'};
    const { workerData, parentPort } = await import('node:worker_threads');
    const proc = attach(workerData.handle);
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
  const exited = new Promise<number>((r) => worker.once('exit', r));
  const messages: unknown[] = [];
  const waiters: ((m: unknown) => void)[] = [];
  let timer: ReturnType<typeof setTimeout>;
  const result = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`worker did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    worker.on('message', (msg: { kind: string; m?: unknown; result?: T; error?: { message: string; code?: string; stack?: string } }) => {
      if (msg.kind === 'msg') {
        const w = waiters.shift();
        if (w) w(msg.m);
        else messages.push(msg.m);
      } else if (msg.kind === 'done') resolve(msg.result as T);
      else if (msg.kind === 'error') reject(Object.assign(new Error(msg.error!.message), { code: msg.error!.code, stack: msg.error!.stack }));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`worker exited (${code}) before finishing`)));
  }).finally(async () => {
    clearTimeout(timer);
    // Settled once the thread is gone: its process is reaped by then (or about to be, on the native backend).
    await worker.terminate();
  });
  return {
    worker,
    pid: handle.pid,
    exited,
    result,
    messages,
    next: () => (messages.length ? Promise.resolve(messages.shift()) : new Promise((r) => waiters.push(r))),
    post: (m) => worker.postMessage(m),
  };
}

/** A syscall as C sees it: the value, or -errno instead of a thrown SyscallError. */
export function sys(fn: () => number): number {
  try {
    return fn();
  } catch (e) {
    const errno = (e as { errno?: number }).errno;
    if (typeof errno !== 'number') throw e;
    return errno;
  }
}

/** The first /dev/dri/cardN whose DRM_IOCTL_VERSION name is "vgem", or -1 (what the selftests and igt both look for). */
export function openVgem(proc: Process): number {
  for (let i = 0; i < 16; i++) {
    const fd = sys(() => proc.open(`/dev/dri/card${i}`, u.O_RDWR));
    if (fd < 0) continue;
    // drm_version_t { .name_len = 4, .name = the 5 bytes after the struct }
    const v = u.drm_version.encode({ name_len: 4, name: u.drm_version.size }, 5);
    if (sys(() => proc.ioctl(fd, u.DRM_IOCTL_VERSION, v)) === 0 && u.cstr(v.subarray(u.drm_version.size)) === 'vgem') return fd;
    proc.close(fd);
  }
  return -1;
}

/**
 * false, or why a test file written for both backends cannot run here:
 * with DMABUF_BACKEND=linux, the host kernel must have the system heap
 * (`npm test -- <filter>` on such a host; the VM test bed has it). Pass as
 * the file's tests' `skip`: they are reported as skipped, by name, with
 * the reason, never counted as passed.
 */
export const backendSkip: string | false =
  process.env.DMABUF_BACKEND === 'linux' && !usable('/dev/dma_heap/system')
    ? 'DMABUF_BACKEND=linux: this host has no /dev/dma_heap/system this user may open (npm run test:linux runs these tests on Linux 6.12)'
    : false;

function usable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * A ported suite's fixture: a machine and one process `comm`, made before
 * the file's tests (`ready` gets them, and may return what to undo first),
 * and after them the process exits and the machine must hold nothing.
 * Nothing is booted when `backendSkip` says why not.
 */
export function useProcess(comm: string, ready: (machine: Machine, proc: Process) => void | (() => void)): void {
  if (backendSkip) return;
  let machine: Machine;
  let proc: Process;
  let undo: void | (() => void);
  before(async () => {
    machine = await boot();
    proc = machine.spawn(comm);
    undo = ready(machine, proc);
  });
  after(async () => {
    undo?.();
    proc.exit();
    assertNothingHeld(await machine.shutdown());
  });
}

/**
 * One machine for a test file: booted before its tests, shut down after
 * them, when it must hold nothing (no dma-buf, page, fence or fd in
 * flight, no taint). Returns the machine (a promise: await it in a hook); nothing is
 * booted when `backendSkip` says why not.
 */
export function useMachine(options: BootOptions = {}): () => Promise<Machine> {
  let booted: Promise<Machine> | null = null;
  const ready = (): Promise<Machine> => (booted ??= boot(options));
  if (backendSkip) return ready;
  before(ready);
  after(async () => {
    const m = await ready();
    const left = await m.shutdown();
    // Every counter the kernel's subsystems registered (or, on the native backend, what its processes hold) is back to 0.
    const required = m.backend === 'linux' ? ['processes', 'fds', 'mappings', 'inFlight'] : ['dmabufs', 'pages', 'inFlight', 'processes', 'taint', 'fences', 'waiters'];
    for (const name of required) assert.ok(name in left, `Machine.stats() has no ${name}`);
    const held = Object.entries(left).filter(([, v]) => v !== 0);
    assert.deepEqual(held, [], 'the machine holds nothing at the end');
  });
  return ready;
}

/**
 * false, or why this run cannot use sw_sync: on the native backend, a kernel
 * built without CONFIG_SW_SYNC (Debian's) has no <debugfs>/sync/sw_sync.
 * Pass as a test's `skip`, so the test is reported by name, not dropped.
 */
export const needsSwSync: string | false =
  backendSkip ||
  (process.env.DMABUF_BACKEND === 'linux' && !existsSync('/sys/kernel/debug/sync/sw_sync') ? 'sw_sync: this kernel was built without CONFIG_SW_SYNC' : false);

/** After shutdown: every counter the machine reports (the kernel's, or on the native backend what its processes held) is 0. */
export function assertNothingHeld(left: Readonly<Record<string, number>>): void {
  assert.deepEqual(Object.entries(left).filter(([, v]) => v !== 0), [], 'the machine holds nothing at the end');
}

/** DMA_HEAP_IOCTL_ALLOC on a heap by name: the new dma-buf fd (the heap fd is closed again). */
export function heapAlloc(proc: Process, len: number, fdFlags = u.O_RDWR | u.O_CLOEXEC, heap = 'system'): number {
  const hfd = proc.open(`/dev/dma_heap/${heap}`, u.O_RDONLY);
  const arg = u.dma_heap_allocation_data.encode({ len, fd_flags: fdFlags });
  try {
    proc.ioctl(hfd, u.DMA_HEAP_IOCTL_ALLOC, arg);
  } finally {
    proc.close(hfd);
  }
  return u.dma_heap_allocation_data.get(arg, 'fd');
}
