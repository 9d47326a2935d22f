/**
 * DMA heaps by name (in the spirit of libdmabufheap): open
 * /dev/dma_heap/<name> and allocate named buffers.
 */
import type { ProcessLike as Process } from '../machine/process-api.js';
import { O_CLOEXEC, O_RDONLY, O_RDWR } from '../uapi/fcntl.js';
import { DMA_HEAP_IOCTL_ALLOC, dma_heap_allocation_data } from '../uapi/dma-heap.js';
import { uintArg } from './args.js';
import { DmaBuffer } from './dma-buffer.js';
import { FdResource } from './resource.js';

/** How {@link DmaHeap.allocate} makes the buffer. */
export interface AllocateOptions {
  /** DMA_BUF_SET_NAME after allocation (shown in bufinfo and fdinfo) */
  name?: string;
  /** the new fd's access mode: O_RDWR (default) or O_RDONLY */
  readOnly?: boolean;
}

/**
 * A DMA heap (/dev/dma_heap/<name>) that allocates dma-bufs with
 * DMA_HEAP_IOCTL_ALLOC: 'system' (pages from anywhere) or the CMA heap
 * (physically contiguous, named after its reserved area).
 *
 * @example
 * ```ts
 * console.log(DmaHeap.list(proc));                // [ 'system', ... ]
 * using heap = DmaHeap.open(proc, 'system');
 * using frame = heap.allocate(1280 * 720 * 4, { name: 'frame-0' });
 * console.log(frame.size, frame.name);            // 3686400 'frame-0'
 * ```
 */
export class DmaHeap extends FdResource {
  /** The heaps this machine has (/dev/dma_heap). */
  static list(proc: Process): string[] {
    return proc.readdir('/dev/dma_heap');
  }

  /** Open a heap by name ('system', or the CMA heap's name). */
  static open(proc: Process, name = 'system'): DmaHeap {
    return new DmaHeap(proc, proc.open(`/dev/dma_heap/${name}`, O_RDONLY | O_CLOEXEC), name);
  }

  private constructor(proc: Process, fd: number, readonly name: string) {
    super(proc, fd, `dma-heap '${name}'`);
  }

  /**
   * DMA_HEAP_IOCTL_ALLOC: a buffer of `size` bytes (rounded up to pages by
   * the heap). A size that is not a safe non-negative integer: EINVAL.
   */
  allocate(size: number, opts: AllocateOptions = {}): DmaBuffer {
    const len = uintArg(size, 'size');
    const b = dma_heap_allocation_data.encode({ len, fd_flags: (opts.readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC });
    this.proc.ioctl(this.fd, DMA_HEAP_IOCTL_ALLOC, b);
    const fd = dma_heap_allocation_data.get(b, 'fd');
    const buf = DmaBuffer.fromFd(this.proc, fd);
    if (opts.name !== undefined) {
      try {
        buf.setName(opts.name);
      } catch (e) {
        buf.close();
        throw e;
      }
    }
    return buf;
  }
}
