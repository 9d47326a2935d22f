/** include/uapi/linux/dma-heap.h */
import { _IOWR } from './ioctl.js';
import { alloc, setU32, setU64, u32, u64 } from './struct.js';

export const DMA_HEAP_IOC_MAGIC = 'H';
/** struct dma_heap_allocation_data { __u64 len; __u32 fd; __u32 fd_flags; __u64 heap_flags; } */
export const SIZEOF_DMA_HEAP_ALLOCATION_DATA = 24;
export const DMA_HEAP_IOCTL_ALLOC = _IOWR(DMA_HEAP_IOC_MAGIC, 0x0, SIZEOF_DMA_HEAP_ALLOCATION_DATA);

export interface DmaHeapAllocationData { len: number; fd: number; fdFlags: number; heapFlags: number }
export const dmaHeapAllocationData = {
  size: SIZEOF_DMA_HEAP_ALLOCATION_DATA,
  encode(v: Partial<DmaHeapAllocationData>): Uint8Array {
    const b = alloc(SIZEOF_DMA_HEAP_ALLOCATION_DATA);
    setU64(b, 0, v.len ?? 0);
    setU32(b, 8, v.fd ?? 0);
    setU32(b, 12, v.fdFlags ?? 0);
    setU64(b, 16, v.heapFlags ?? 0);
    return b;
  },
  decode(b: Uint8Array): DmaHeapAllocationData {
    return { len: u64(b, 0), fd: u32(b, 8), fdFlags: u32(b, 12), heapFlags: u64(b, 16) };
  },
};
