// A kernel module of your own: "ramexp", a character device /dev/ramexp
// whose one ioctl allocates system memory and hands it to the caller as a
// dma-buf fd. It is loaded into a running machine with machine.insmod() (or
// boot({ modules })), and registers itself through the same API the
// built-in drivers use; everything it registers names `mod` as its owner, so
// rmmod is refused (EAGAIN) while /dev/ramexp is open or one of its
// dma-bufs is alive.
import * as k from 'dmabuf/kernel';
import { _IOWR, field, O_ACCMODE, O_CLOEXEC, struct } from 'dmabuf/uapi';

/** struct ramexp_alloc { __u64 size; __s32 fd; __u32 flags; }: the ioctl's argument (flags: O_CLOEXEC | O_ACCMODE of the new fd) */
export const ramexp_alloc = struct('ramexp_alloc', 16, {
  size: field('__u64', 0),
  fd: field('__s32', 8),
  flags: field('__u32', 12),
});
export const RAMEXP_IOC_ALLOC = _IOWR('R', 0x00, ramexp_alloc.size);
/** the most one buffer may be (a driver's own limit) */
const RAMEXP_MAX = 64n << 20n;

/** One buffer: its pages, in one backing store. */
class RamBuffer {
  constructor(size) {
    this.size = size;
    this.backing = new k.Backing('ramexp', size);
    this.pages = [];
    for (let off = 0; off < size; off += k.PAGE_SIZE) {
      const p = k.allocPages(k.GFP_KERNEL, 0, this.backing, off);
      if (!p) {
        this.free();
        throw k.kerr(-k.ENOMEM, 'ramexp: out of memory');
      }
      this.pages.push(p[0]);
    }
  }

  free() {
    for (const p of this.pages) k.freePages(p, 0);
    this.pages = [];
  }
}

/** struct dma_buf_ops of ramexp: system pages, mapped for devices through the DMA API, mmap-able. */
const ops = {
  mapDmaBuf: (attach, dir) => {
    const buf = attach.dmabuf.priv;
    return k.dmaMapNewSgtable(attach.dev, k.sgAllocTableFromPages(buf.pages, 0, buf.size), dir);
  },
  unmapDmaBuf(attach, sgt, dir) {
    k.dmaUnmapSgtable(attach.dev, sgt, dir);
    k.sgFreeTable(sgt);
  },
  release: (dmabuf) => dmabuf.priv.free(),
  mmap: (dmabuf, vma) => k.vmaMapPages(vma, dmabuf.priv.pages),
  vmap: (dmabuf, map) => (map.setVaddr(dmabuf.priv.backing.view(0, dmabuf.priv.size)), 0),
  vunmap: (_dmabuf, map) => map.clear(),
};

let THIS_MODULE = null;
/** how many buffers this module made (read through its counter in Machine.stats()) */
let exported = 0;

/** RAMEXP_IOC_ALLOC: copy the argument in, export, install the fd, copy out. */
function ramexpAlloc(arg, task) {
  const raw = k.copyFromUser(arg, ramexp_alloc.size);
  if (!raw) return -k.EFAULT;
  const a = ramexp_alloc.decode(raw);
  if (a.fd !== 0 || a.flags & ~(O_CLOEXEC | O_ACCMODE)) return -k.EINVAL;
  if (a.size === 0n || a.size > RAMEXP_MAX) return -k.EINVAL;
  const size = Number((a.size + BigInt(k.PAGE_SIZE) - 1n) & ~BigInt(k.PAGE_SIZE - 1));
  let dmabuf;
  try {
    const buf = new RamBuffer(size);
    try {
      dmabuf = k.dmaBufExport({ expName: 'ramexp', owner: THIS_MODULE, ops, size, flags: a.flags & O_ACCMODE, priv: buf });
    } catch (e) {
      buf.free();
      throw e;
    }
  } catch (e) {
    return k.ptrErr(e);
  }
  const fd = k.dmaBufFd(dmabuf, a.flags, task.files);
  if (fd < 0) {
    k.dmaBufPut(dmabuf);
    return fd;
  }
  exported++;
  ramexp_alloc.set(raw, 'fd', fd);
  k.copyToUser(arg, raw);
  return 0;
}

const fops = {
  unlockedIoctl(_file, cmd, arg, task) {
    return cmd === RAMEXP_IOC_ALLOC ? ramexpAlloc(arg, task) : -k.ENOTTY;
  },
};

const misc = { name: 'ramexp', mode: 0o666, fops, owner: null };

export default {
  name: 'ramexp',
  init(mod) {
    THIS_MODULE = mod;
    misc.owner = mod;
    const ret = k.miscRegister(misc);
    if (ret) return ret;
    return k.statsRegister('ramexp_exported', () => exported, mod);
  },
  exit() {
    k.miscDeregister(misc);
    THIS_MODULE = null;
  },
};
