/**
 * dmabuf: Linux DMA-BUF in TypeScript.
 *
 * - boot() a machine (its kernel in a worker thread), spawn() processes,
 *   and use Linux's userspace ABI: open/ioctl/mmap/poll on dma-buf,
 *   sync_file, sw_sync, heap, udmabuf and DRM file descriptors.
 * - The kernel face is 'dmabuf/kernel'; uapi constants and struct codecs
 *   are 'dmabuf/uapi'.
 */
export { boot, Machine, type BootOptions, type MachineStats } from './machine/boot.js';
export { Process, attach, type PollFdEntry } from './machine/process.js';
export { SyscallError } from './machine/errors.js';
export type { ProcessHandle, TraceRecord } from './machine/protocol.js';
export * as kernel from './kernel/index.js';
