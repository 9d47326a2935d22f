/**
 * dmabuf: Linux DMA-BUF in TypeScript.
 *
 * - boot() a machine and spawn() processes that use Linux's userspace ABI
 *   (open/ioctl/mmap/poll on dma-buf, sync_file, sw_sync, heap, udmabuf and
 *   DRM fds): on the emulated kernel (a worker thread; the default) or on
 *   the host's real kernel (`backend: 'linux'`, or DMABUF_BACKEND=linux).
 * - The kernel face is 'dmabuf/kernel'; uapi constants and structs are
 *   'dmabuf/uapi'; the userspace library is 'dmabuf/user'.
 *
 * Importing this module loads no kernel code: a worker that attaches to a
 * machine loads only the process side. The native backend's process module
 * (some twenty files) is loaded only in a thread that may attach a native
 * handle (see nativeHandleExpected), so that a worker of the emulated
 * machine starts fast.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { boot as bootEmulator, type BootOptions } from './machine/boot.js';
import { attach as attachEmulated } from './machine/process.js';
import type { NativeProcess, NativeProcessHandle } from './native/process.js';
import { SyscallError } from './machine/errors.js';
import { EINVAL } from './uapi/errno.js';
import type { MachineLike, ProcessHandleLike, ProcessLike } from './machine/process-api.js';
import type { ProcessHandle } from './machine/protocol.js';

export type { BootOptions, MemoryConfig } from './machine/boot.js';
export { Machine as EmulatedMachine } from './machine/boot.js';
export { Process as EmulatedProcess, SYSCALL_METHODS, type PollFdEntry } from './machine/process.js';
export type {
  Syscalls, AsyncSyscalls, CallOptions, Rlimit, SignalHandler, MachineStats, ProcessLike as Process, MachineLike as Machine, ProcessHandleLike as ProcessHandle,
} from './machine/process-api.js';
export { SyscallError } from './machine/errors.js';
export type { TraceRecord, ProcessHandle as EmulatedProcessHandle } from './machine/protocol.js';
export type { Stat } from './uapi/stat.js';

/**
 * Whether attach() may be handed a native process handle in this thread:
 * the main thread, a process whose environment chooses the native backend,
 * or a worker whose workerData holds a native handle (itself, or as one of
 * its properties, as `workerData.handle`).
 */
function nativeHandleExpected(): boolean {
  if (isMainThread || process.env.DMABUF_BACKEND === 'linux') return true;
  const isNative = (v: unknown): boolean => typeof v === 'object' && v !== null && (v as { backend?: unknown }).backend === 'linux';
  if (isNative(workerData)) return true;
  return typeof workerData === 'object' && workerData !== null && Object.values(workerData as object).some(isNative);
}

/** Where the native process module puts its class when it loads in a thread (by this module, or by `import 'dmabuf/native'`). */
const NATIVE_PROCESS = Symbol.for('dmabuf.NativeProcess');
if (nativeHandleExpected()) await import('./native/process.js');

/** The backend a boot() without one uses: DMABUF_BACKEND, else the emulator. */
function defaultBackend(): 'emulator' | 'linux' {
  const env = process.env.DMABUF_BACKEND;
  if (env === undefined || env === '' || env === 'emulator') return 'emulator';
  if (env === 'linux') return 'linux';
  throw new SyscallError(-EINVAL, 'boot', `(DMABUF_BACKEND=${env}: expected 'emulator' or 'linux')`);
}

/**
 * Boot a machine: by default the emulated kernel in a worker thread; with
 * `backend: 'linux'` (or DMABUF_BACKEND=linux) processes whose calls go to
 * the host's Linux kernel (needs Linux on x86-64 and the optional koffi
 * package; otherwise a NativeUnavailableError says why).
 *
 * @example
 * ```ts
 * import { boot } from 'dmabuf';
 * await using machine = await boot();
 * using proc = machine.spawn('example');
 * console.log(proc.readdir('/dev/dma_heap'));
 * ```
 */
export async function boot(options: BootOptions = {}): Promise<MachineLike> {
  const backend = options.backend ?? defaultBackend();
  if (backend === 'linux') {
    if (options.modules?.length) throw new SyscallError(-EINVAL, 'boot', '(modules: a JavaScript kernel module runs in the emulator only; load real ones with modprobe)');
    const { bootNative } = await import('./native/machine.js');
    return bootNative({ interruptSignal: options.interruptSignal });
  }
  if (backend !== 'emulator') throw new SyscallError(-EINVAL, 'boot', `(backend '${String(backend)}': expected 'emulator' or 'linux')`);
  return bootEmulator(options);
}

/**
 * In a worker thread: become the process that a parent's
 * `machine.channel()` made (either backend). When the process is killed,
 * the worker thread ends.
 *
 * @example
 * ```ts
 * import { attach } from 'dmabuf';
 * import { workerData } from 'node:worker_threads';
 * const proc = attach(workerData.handle);
 * ```
 */
export function attach(handle: ProcessHandleLike): ProcessLike {
  if (handle.backend === 'linux') {
    const NativeProcessClass = (globalThis as Record<symbol, typeof NativeProcess | undefined>)[NATIVE_PROCESS];
    if (!NativeProcessClass) {
      throw new SyscallError(-EINVAL, 'attach', "(a native process handle in a worker that was not handed one in its workerData: import 'dmabuf/native' before attaching it)");
    }
    return new NativeProcessClass(handle as unknown as NativeProcessHandle);
  }
  return attachEmulated(handle as ProcessHandle);
}
