/**
 * Linux's uapi: constants with Linux's names and values, the C structs the
 * ioctls take (declared once, x86-64 layout) and the table of ioctls.
 */
export * from './ioctl.js';
export * from './ioctls.js';
export * from './struct.js';
export * from './user-pointers.js';
export * from './fcntl.js';
export * from './mman.js';
export * from './stat.js';
export * from './poll.js';
export * from './eventpoll.js';
export * from './errno.js';
export * from './dma-buf.js';
export * from './sync_file.js';
export * from './sw_sync.js';
export * from './dma-heap.js';
export * from './udmabuf.js';
export * from './drm.js';
export * from './signal.js';
export * from './ioctl-table.js';
