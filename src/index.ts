/**
 * dmabuf: Linux DMA-BUF in TypeScript.
 *
 * - boot() a machine (its kernel in a worker thread), spawn() processes,
 *   and use Linux's userspace ABI: open/ioctl/mmap/poll on dma-buf,
 *   sync_file, sw_sync, heap, udmabuf and DRM file descriptors.
 * - The kernel face is 'dmabuf/kernel'; uapi constants and struct codecs
 *   are 'dmabuf/uapi'; the userspace library is 'dmabuf/user'.
 *
 * Importing this module loads no kernel code: a worker that attaches to a
 * machine loads only the process side.
 */
export { boot, Machine, type BootOptions, type MachineStats } from './machine/boot.js';
export { Process, attach, SYSCALL_METHODS, type PollFdEntry } from './machine/process.js';
export type { Syscalls, AsyncSyscalls, CallOptions, Rlimit, SignalHandler } from './machine/process-api.js';
export { SyscallError } from './machine/errors.js';
export type { ProcessHandle, TraceRecord } from './machine/protocol.js';
export type { Stat } from './uapi/stat.js';
