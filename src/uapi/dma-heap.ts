/** include/uapi/linux/dma-heap.h */
import { _IOWR, type IoctlDecl } from './ioctl.js';
import { field, struct } from './struct.js';

/** The ioctl type (magic) of the dma-heap ioctls: 'H' (include/uapi/linux/dma-heap.h). */
export const DMA_HEAP_IOC_MAGIC = 'H';

/**
 * struct dma_heap_allocation_data (24 bytes), the argument of
 * {@link DMA_HEAP_IOCTL_ALLOC}: `len` in bytes (rounded up to pages), `fd`
 * (0 in, the new dma-buf out), `fd_flags` (O_RDWR or O_RDONLY, and
 * O_CLOEXEC), `heap_flags` (none defined: 0).
 */
export const dma_heap_allocation_data = struct('dma_heap_allocation_data', 24, {
  len: field('__u64', 0),
  fd: field('__u32', 8),
  fd_flags: field('__u32', 12),
  heap_flags: field('__u64', 16),
});

/**
 * Allocate a dma-buf from the heap the fd is (`/dev/dma_heap/<name>`),
 * {@link dma_heap_allocation_data}. EINVAL for a non-zero `fd` or
 * `heap_flags`, other `fd_flags` bits, or a zero `len`; ENOMEM when the heap
 * has no room.
 */
export const DMA_HEAP_IOCTL_ALLOC = _IOWR(DMA_HEAP_IOC_MAGIC, 0x0, dma_heap_allocation_data.size);

/** The dma-heap ioctls (just ALLOC). */
export const DMA_HEAP_IOCTLS: readonly IoctlDecl[] = [
  { name: 'DMA_HEAP_IOCTL_ALLOC', request: DMA_HEAP_IOCTL_ALLOC, arg: dma_heap_allocation_data },
];
