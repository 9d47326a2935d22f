/**
 * dmabuf/user: the ergonomic userspace library over a Process's syscalls —
 * heaps by name, buffers with CPU-access guards (`using`), sync files as
 * promises, sw_sync timelines, a bounded buffer pool, and buffers and sync
 * files passed between workers as plain descriptors.
 */
export { DmaHeap, type AllocateOptions } from './heap.js';
export { DmaBuffer, CpuAccess, type Access, type DmaBufferDescriptor } from './dma-buffer.js';
export { SyncFile, Timeline, FenceError, type TimelineSource, type SyncFileInfo, type SyncFenceInfo, type SyncFileDescriptor } from './sync-file.js';
export { BufferPool, PoolLease, PoolExhaustedError, type PoolOptions, type AcquireOptions, type Holding } from './pool.js';
export { WaitTimeoutError, type WaitOptions } from './wait.js';
export { FdResource, LEAK_WARNING_CODE } from './resource.js';
export { DmabufError } from './errors.js';
export { findDrmDevice, openDrmDevice, drmVersion, drmNodes, type DrmDevice, type DrmVersion, type DrmNodeKind, type DrmProber } from './drm.js';
