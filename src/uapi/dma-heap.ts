/** include/uapi/linux/dma-heap.h */
import { _IOWR, type IoctlDecl } from './ioctl.js';
import { field, struct } from './struct.js';

export const DMA_HEAP_IOC_MAGIC = 'H';

export const dma_heap_allocation_data = struct('dma_heap_allocation_data', 24, {
  len: field('__u64', 0),
  fd: field('__u32', 8),
  fd_flags: field('__u32', 12),
  heap_flags: field('__u64', 16),
});

export const DMA_HEAP_IOCTL_ALLOC = _IOWR(DMA_HEAP_IOC_MAGIC, 0x0, dma_heap_allocation_data.size);

export const DMA_HEAP_IOCTLS: readonly IoctlDecl[] = [
  { name: 'DMA_HEAP_IOCTL_ALLOC', request: DMA_HEAP_IOCTL_ALLOC, arg: dma_heap_allocation_data },
];
