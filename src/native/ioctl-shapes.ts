/**
 * What the native backend must know about an ioctl beyond its number: fd
 * fields the kernel reads (the process must own them, as its own fd table
 * would require), fd fields the kernel fills in or an fd it returns (they
 * become the process's), and, for the async twin, what to poll for before
 * a call that would wait (DMA_BUF_IOCTL_SYNC's start waits for the
 * buffer's fences). User pointers need no entry: they come from the struct
 * declarations (pointerOffsets(), relocated by relocate.ts).
 *
 * The table holds the dma-buf family's ioctls (Linux 6.12 uapi headers);
 * declareIoctl() adds more.
 */
import { DMA_BUF_IOCTL_EXPORT_SYNC_FILE, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, DMA_BUF_IOCTL_SYNC, DMA_BUF_SYNC_END, DMA_BUF_SYNC_WRITE } from '../uapi/dma-buf.js';
import { DMA_HEAP_IOCTL_ALLOC } from '../uapi/dma-heap.js';
import { DRM_IOCTL_PRIME_FD_TO_HANDLE, DRM_IOCTL_PRIME_HANDLE_TO_FD } from '../uapi/drm.js';
import { _IOC_NR, _IOC_TYPE } from '../uapi/ioctl.js';
import { ioctlInfo } from '../uapi/ioctl-table.js';
import { Struct } from '../uapi/struct.js';
import { userPointers } from '../uapi/user-pointers.js';
import { POLLIN, POLLOUT } from '../uapi/poll.js';
import { SW_SYNC_GET_DEADLINE, SW_SYNC_IOC_CREATE_FENCE } from '../uapi/sw_sync.js';
import { SYNC_IOC_MERGE } from '../uapi/sync_file.js';
import { UDMABUF_CREATE, UDMABUF_CREATE_LIST } from '../uapi/udmabuf.js';

export interface IoctlShape {
  /** byte offsets of 32-bit fd fields the kernel reads */
  fdIn?: readonly number[] | ((arg: Uint8Array) => number[]);
  /** byte offsets of 32-bit fd fields the kernel writes on success, or 'ret' when the new fd is the return value */
  fdOut?: readonly number[] | 'ret';
  /** poll events to wait for before the async twin makes the call (0: no wait) */
  waitEvents?: (arg: Uint8Array) => number;
}

const shapes = new Map<number, IoctlShape>();

/** Describe ioctl `request` (replacing what was known of it). */
export function declareIoctl(request: number, shape: IoctlShape): void {
  shapes.set(request >>> 0, shape);
}

/**
 * What is known of `request`: its own entry, else that of the ioctl with
 * the same type and number (an older or newer layout of the same struct,
 * as DMA_HEAP_IOCTL_ALLOC's callers may use: the kernel picks the command
 * by number and copies the caller's size).
 */
export function ioctlShape(request: number): IoctlShape | undefined {
  const exact = shapes.get(request >>> 0);
  if (exact) return exact;
  const key = _IOC_TYPE(request) << 8 | _IOC_NR(request);
  for (const [r, shape] of shapes) if ((_IOC_TYPE(r) << 8 | _IOC_NR(r)) === key) return shape;
  return undefined;
}

/**
 * The byte offsets of the non-NULL user pointers in an ioctl argument,
 * from the struct declarations (src/uapi): no ioctl-specific code.
 */
export function pointerOffsets(request: number, arg: Uint8Array): readonly number[] {
  const d = ioctlInfo(request);
  if (!(d?.arg instanceof Struct) || arg.length < d.arg.size) return [];
  return userPointers(d.arg, arg).map((p) => p.at);
}

export function offsetsOf(spec: readonly number[] | ((arg: Uint8Array) => number[]) | undefined, arg: Uint8Array): readonly number[] {
  if (!spec) return [];
  return typeof spec === 'function' ? spec(arg) : spec;
}

const u32 = (b: Uint8Array, at: number): number => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true);

// struct dma_heap_allocation_data { __u64 len; __u32 fd; __u32 fd_flags; __u64 heap_flags; }
declareIoctl(DMA_HEAP_IOCTL_ALLOC, { fdOut: [8] });
// struct dma_buf_sync { __u64 flags; }: a start waits for the fences (writers for a read, all for a write), as poll's
// EPOLLIN and EPOLLOUT do (drivers/dma-buf/dma-buf.c, dma_buf_poll and dma_buf_begin_cpu_access).
declareIoctl(DMA_BUF_IOCTL_SYNC, {
  waitEvents: (arg) => {
    if (arg.length < 8) return 0;
    const flags = u32(arg, 0);
    if (flags & DMA_BUF_SYNC_END) return 0;
    return flags & DMA_BUF_SYNC_WRITE ? POLLOUT : POLLIN;
  },
});
// struct dma_buf_export_sync_file / dma_buf_import_sync_file { __u32 flags; __s32 fd; }
declareIoctl(DMA_BUF_IOCTL_EXPORT_SYNC_FILE, { fdOut: [4] });
declareIoctl(DMA_BUF_IOCTL_IMPORT_SYNC_FILE, { fdIn: [4] });
// struct sync_merge_data { char name[32]; __s32 fd2; __s32 fence; __u32 flags; __u32 pad; }
declareIoctl(SYNC_IOC_MERGE, { fdIn: [32], fdOut: [36] });
// struct sw_sync_create_fence_data { __u32 value; char name[32]; __s32 fence; }
declareIoctl(SW_SYNC_IOC_CREATE_FENCE, { fdOut: [36] });
// struct sw_sync_get_deadline { __u64 deadline_ns; __u32 pad; __s32 fence_fd; }
declareIoctl(SW_SYNC_GET_DEADLINE, { fdIn: [12] });
// struct udmabuf_create { __u32 memfd; __u32 flags; __u64 offset; __u64 size; }: returns the new dma-buf fd
declareIoctl(UDMABUF_CREATE, { fdIn: [0], fdOut: 'ret' });
// struct udmabuf_create_list { __u32 flags; __u32 count; struct udmabuf_create_item list[]; }, items of 24 bytes led by the memfd
declareIoctl(UDMABUF_CREATE_LIST, {
  fdIn: (arg) => {
    const count = arg.length >= 8 ? u32(arg, 4) : 0;
    const out: number[] = [];
    for (let i = 0; i < count && 8 + i * 24 + 4 <= arg.length; i++) out.push(8 + i * 24);
    return out;
  },
  fdOut: 'ret',
});
// struct drm_prime_handle { __u32 handle; __u32 flags; __s32 fd; }
declareIoctl(DRM_IOCTL_PRIME_HANDLE_TO_FD, { fdOut: [8] });
declareIoctl(DRM_IOCTL_PRIME_FD_TO_HANDLE, { fdIn: [8] });

