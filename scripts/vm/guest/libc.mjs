// libc through koffi, for the guest programs: the few calls they make on the
// real kernel, and the ioctl numbers they need (from the Linux 6.12 uapi
// headers linux/dma-heap.h, linux/dma-buf.h, and the sw_sync ioctls of
// drivers/dma-buf/sw_sync.c). Null when the koffi package is not installed.

/** _IOC(dir, type, nr, size) of include/uapi/asm-generic/ioctl.h. */
function ioc(dir, type, nr, size) {
  return ((dir << 30) | (size << 16) | (type.charCodeAt(0) << 8) | nr) >>> 0;
}
const _IOW = (t, nr, size) => ioc(1, t, nr, size);
const _IOWR = (t, nr, size) => ioc(3, t, nr, size);

/** struct dma_heap_allocation_data { __u64 len; __u32 fd; __u32 fd_flags; __u64 heap_flags; } */
export const DMA_HEAP_IOCTL_ALLOC = _IOWR('H', 0x0, 24);
/** struct dma_buf_sync { __u64 flags; } */
export const DMA_BUF_IOCTL_SYNC = _IOW('b', 0, 8);
export const DMA_BUF_SYNC_READ = 1;
export const DMA_BUF_SYNC_WRITE = 2;
export const DMA_BUF_SYNC_RW = 3;
export const DMA_BUF_SYNC_START = 0;
export const DMA_BUF_SYNC_END = 4;
/** struct sw_sync_create_fence_data { __u32 value; char name[32]; __s32 fence; } */
export const SW_SYNC_IOC_CREATE_FENCE = _IOWR('W', 0, 40);
export const SW_SYNC_IOC_INC = _IOW('W', 1, 4);

export const O_RDWR = 0o2;
export const O_CLOEXEC = 0o2000000;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;
export const POLLIN = 1;

async function load() {
  let koffi;
  try {
    koffi = (await import('koffi')).default;
  } catch {
    return null;
  }
  const lib = koffi.load('libc.so.6');
  const fns = {
    koffi,
    open: lib.func('int open(const char *path, int flags)'),
    close: lib.func('int close(int fd)'),
    ioctl: lib.func('int ioctl(int fd, unsigned long request, void *arg)'),
    mmap: lib.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)'),
    munmap: lib.func('int munmap(void *addr, size_t length)'),
    poll: lib.func('int poll(void *fds, unsigned long nfds, int timeout)'),
  };
  /** The calling thread's errno as a name, for messages. */
  fns.errno = () => {
    const e = koffi.errno();
    const names = { 1: 'EPERM', 2: 'ENOENT', 9: 'EBADF', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 19: 'ENODEV', 22: 'EINVAL', 25: 'ENOTTY', 38: 'ENOSYS' };
    return `${names[e] ?? 'errno'} (${e})`;
  };
  /** mmap's MAP_FAILED, (void *)-1, as an address. */
  fns.failed = (ptr) => ptr === null || koffi.address(ptr) === 0xffffffffffffffffn;
  return fns;
}

export const libc = await load();
