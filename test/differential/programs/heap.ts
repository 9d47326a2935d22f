/**
 * The dma-buf heaps (drivers/dma-buf/dma-heap.c, heaps/system_heap.c,
 * heaps/cma_heap.c): DMA_HEAP_IOCTL_ALLOC's arguments, the buffers' flags
 * and size, mmap bounds, PROT_EXEC, private mappings, and the CMA heap.
 */
import * as u from '../../../src/uapi/index.js';
import type { Recorder } from '../recorder.js';
import type { Env } from '../env.js';
import { fdLink, heapAlloc, PAGE, systemBuf, withDir, withSize } from './lib.js';

/**
 * Lengths: zero, partial pages, a few MiB, the u64 lengths that page-align
 * to 0. (Not more than the machine has: Linux 6.12's system heap allocates
 * page by page until the OOM killer ends the caller; docs/linux-differences.md.)
 */
export function allocLengths(r: Recorder): void {
  const h = r.open('/dev/dma_heap/system', u.O_RDONLY | u.O_CLOEXEC);
  for (const len of [0n, 1n, 4095n, 4096n, 4097n, 65536n + 1n, 1n << 20n, (1n << 20n) + 4096n, (3n << 20n) + 1n, 0xffffffffffffffffn, 0xfffffffffffff001n]) {
    const arg = u.dma_heap_allocation_data.encode({ len, fd_flags: u.O_RDWR | u.O_CLOEXEC });
    if (r.ioctl(h, u.DMA_HEAP_IOCTL_ALLOC, arg) === 0) {
      const fd = u.dma_heap_allocation_data.get(arg, 'fd');
      r.lseek(fd, 0, u.SEEK_END);
      r.fstat(fd);
      r.close(fd);
    }
  }
  r.close(h);
}

/** fd_flags and heap_flags: the valid ones, each invalid bit, bits above 31 of the u64; a nonzero fd going in. */
export function allocFlags(r: Recorder): void {
  const h = r.open('/dev/dma_heap/system', u.O_RDONLY | u.O_CLOEXEC);
  const alloc = (values: u.Input<typeof u.dma_heap_allocation_data.fields>): void => {
    const arg = u.dma_heap_allocation_data.encode({ len: 4096n, ...values });
    if (r.ioctl(h, u.DMA_HEAP_IOCTL_ALLOC, arg) === 0) {
      const fd = u.dma_heap_allocation_data.get(arg, 'fd');
      r.fcntl(fd, u.F_GETFL);
      r.fcntl(fd, u.F_GETFD);
      r.close(fd);
    }
  };
  for (const fd_flags of [u.O_RDONLY, u.O_WRONLY, u.O_RDWR, u.O_ACCMODE, u.O_RDWR | u.O_CLOEXEC, u.O_RDONLY | u.O_CLOEXEC, u.O_NONBLOCK, u.O_RDWR | u.O_APPEND, u.O_RDWR | u.O_LARGEFILE, 0x80000000]) alloc({ fd_flags });
  for (const heap_flags of [1n, 0x80000000n, 1n << 32n, 1n << 63n]) alloc({ fd_flags: u.O_RDWR, heap_flags });
  alloc({ fd_flags: u.O_RDWR, fd: 1 });
  alloc({ fd_flags: u.O_RDWR, fd: 0xffffffff });
  r.close(h);
}

/**
 * The ALLOC request with other sizes (an older 16-byte layout, a newer
 * longer one), the read direction only, other numbers, NULL. (Not a
 * write-only direction or a size without the fd field: Linux allocates and
 * installs the fd but copies nothing back, so the fd would leak.)
 */
export function allocRequests(r: Recorder): void {
  const h = r.open('/dev/dma_heap/system', u.O_RDONLY | u.O_CLOEXEC);
  const tryIt = (req: number, arg: Uint8Array | number): void => {
    if (r.ioctl(h, req, arg) === 0 && arg instanceof Uint8Array) r.close(new DataView(arg.buffer, arg.byteOffset).getUint32(8, true));
  };
  const data = (extra = 0): Uint8Array => u.dma_heap_allocation_data.encode({ len: 4096n, fd_flags: u.O_RDWR | u.O_CLOEXEC }, extra);
  tryIt(withSize(u.DMA_HEAP_IOCTL_ALLOC, 16), data().slice(0, 16));
  tryIt(withSize(u.DMA_HEAP_IOCTL_ALLOC, 32), data(8));
  tryIt(withDir(u.DMA_HEAP_IOCTL_ALLOC, u._IOC_READ), data());
  tryIt(u._IOWR('H', 1, 24), data());
  tryIt(u._IOWR('H', 0x20, 24), data());
  tryIt(u.DMA_HEAP_IOCTL_ALLOC, 0);
  r.close(h);
}

/** The heap's own node: readdir, fstat, readlink, lseek, read, write, mmap, an ioctl of another family. */
export function heapNode(r: Recorder, env: Env): void {
  const heaps = r.readdir('/dev/dma_heap');
  if (Array.isArray(heaps) && env.cmaHeap === null && heaps.length) r.note(`heaps: ${heaps.join(', ')}`);
  for (const flags of [u.O_RDONLY, u.O_WRONLY, u.O_RDWR]) {
    const h = r.open('/dev/dma_heap/system', flags);
    r.fstat(h);
    fdLink(r, h);
    r.fcntl(h, u.F_GETFL);
    r.lseek(h, 0, u.SEEK_SET);
    r.read(h, 16);
    r.write(h, 'x');
    r.mmap(PAGE, u.PROT_READ, u.MAP_SHARED, h);
    // a number past the heap's table (not one of another type with number 0: dma_heap_ioctl() looks at the
    // number only, so DMA_BUF_IOCTL_SYNC here would allocate, and with no output copied back, leak the fd)
    r.ioctl(h, u._IOW('H', 5, 8), new Uint8Array(8));
    r.close(h);
  }
  r.open('/dev/dma_heap/none', u.O_RDONLY);
  r.open('/dev/dma_heap', u.O_RDONLY | u.O_DIRECTORY);
}

/** mmap of a 2-page buffer: lengths, offsets (aligned or not, in and past the buffer), each prot, each map type. */
export function mmapBounds(r: Recorder): void {
  const buf = systemBuf(r, 2 * PAGE);
  const tryMap = (len: number, prot: number, flags: number, off: number | bigint): void => {
    const v = r.mmap(len, prot, flags, buf, off);
    if (typeof v !== 'number') r.munmap(v);
  };
  for (const [len, off] of [[PAGE, 0], [2 * PAGE, 0], [3 * PAGE, 0], [PAGE, PAGE], [2 * PAGE, PAGE], [PAGE, 2 * PAGE], [1, 0], [PAGE + 1, 0], [2 * PAGE + 1, 0], [0, 0], [PAGE, 1], [PAGE, 2048]] as const) {
    tryMap(len, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, off);
  }
  tryMap(PAGE, u.PROT_READ, u.MAP_SHARED, 1n << 40n);
  tryMap(PAGE, u.PROT_READ, u.MAP_SHARED, 0xfffffffffffff000n);
  for (const prot of [u.PROT_NONE, u.PROT_READ, u.PROT_WRITE, u.PROT_READ | u.PROT_EXEC, u.PROT_EXEC, u.PROT_READ | u.PROT_WRITE | u.PROT_EXEC]) tryMap(PAGE, prot, u.MAP_SHARED, 0);
  for (const flags of [u.MAP_SHARED_VALIDATE, 0, 0x0f, u.MAP_SHARED | u.MAP_POPULATE]) tryMap(PAGE, u.PROT_READ, flags, 0);
  r.close(buf);
}

/** An O_RDONLY buffer: a shared writable mapping is refused, a read-only or private one is not. */
export function mmapReadOnlyBuffer(r: Recorder): void {
  const buf = systemBuf(r, PAGE, u.O_RDONLY | u.O_CLOEXEC);
  for (const [prot, flags] of [[u.PROT_READ, u.MAP_SHARED], [u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED], [u.PROT_READ | u.PROT_WRITE, u.MAP_PRIVATE], [u.PROT_WRITE, u.MAP_SHARED]]) {
    const v = r.mmap(PAGE, prot, flags, buf, 0);
    if (typeof v !== 'number') r.munmap(v);
  }
  r.close(buf);
  const wo = systemBuf(r, PAGE, u.O_WRONLY | u.O_CLOEXEC);
  const v = r.mmap(PAGE, u.PROT_WRITE, u.MAP_SHARED, wo, 0);
  if (typeof v !== 'number') r.munmap(v);
  r.close(wo);
}

/** Two shared mappings see each other's writes; a new buffer is zeroed; a mapping outlives its fd. */
export function sharedCoherence(r: Recorder): void {
  const buf = systemBuf(r, 2 * PAGE);
  const a = r.mmap(2 * PAGE, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, buf, 0);
  const b = r.mmap(PAGE, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, buf, PAGE);
  if (typeof a === 'number' || typeof b === 'number') return;
  r.peek(a, 0, 8);
  r.peek(a, PAGE * 2 - 8, 8);
  r.poke(a, PAGE, [1, 2, 3, 4]);
  r.peek(b, 0, 8);
  r.poke(b, PAGE - 4, [0xaa, 0xbb, 0xcc, 0xdd]);
  r.peek(a, 2 * PAGE - 4, 4);
  r.close(buf);
  r.readFile('/sys/kernel/debug/dma_buf/bufinfo');
  r.peek(a, PAGE, 4);
  r.munmap(b);
  r.peek(a, 2 * PAGE - 4, 4);
  r.munmap(a);
  r.readFile('/sys/kernel/debug/dma_buf/bufinfo');
}

/**
 * MAP_PRIVATE: one page is a private copy-on-write mapping; more than one is
 * refused (remap_pfn_range of a COW mapping must cover the whole VMA). Until
 * its first write, a private page is the buffer's page: it sees other writers.
 */
export function privateMappings(r: Recorder): void {
  const buf = systemBuf(r, 2 * PAGE);
  const shared = r.mmap(2 * PAGE, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, buf, 0);
  if (typeof shared === 'number') return;
  r.poke(shared, 0, [7, 7, 7, 7]);
  const two = r.mmap(2 * PAGE, u.PROT_READ | u.PROT_WRITE, u.MAP_PRIVATE, buf, 0);
  if (typeof two !== 'number') r.munmap(two);
  const one = r.mmap(PAGE, u.PROT_READ | u.PROT_WRITE, u.MAP_PRIVATE, buf, 0);
  const second = r.mmap(PAGE, u.PROT_READ, u.MAP_PRIVATE, buf, PAGE);
  if (typeof one !== 'number') {
    r.peek(one, 0, 4);
    r.note('a write through the shared mapping, before any write through the private one');
    r.poke(shared, 0, [8, 8]);
    r.peek(one, 0, 4);
    r.poke(one, 2, [9, 9]);
    r.peek(one, 0, 4);
    r.peek(shared, 0, 4);
    r.poke(shared, 0, [5]);
    r.peek(one, 0, 4);
    r.munmap(one);
  }
  if (typeof second !== 'number') {
    r.poke(shared, PAGE, [6]);
    r.peek(second, 0, 2);
    r.munmap(second);
  }
  r.munmap(shared);
  r.close(buf);
}

/** The CMA heap: allocation, its node, shared and private mappings, too large a buffer. */
export function cmaHeap(r: Recorder, env: Env): void {
  env.need('cmaHeap');
  const name = env.cmaHeap!;
  const [h, buf] = heapAlloc(r, 3 * PAGE, u.O_RDWR | u.O_CLOEXEC, name);
  r.fstat(h);
  fdLink(r, h);
  if (buf >= 0) {
    r.fstat(buf);
    fdLink(r, buf);
    r.readFile(`/proc/self/fdinfo/${buf}`);
    const m = r.mmap(3 * PAGE, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, buf, 0);
    if (typeof m !== 'number') {
      r.peek(m, 0, 8);
      r.poke(m, 2 * PAGE, [1, 2, 3]);
      r.peek(m, 2 * PAGE, 4);
      r.munmap(m);
    }
    const p = r.mmap(PAGE, u.PROT_READ, u.MAP_PRIVATE, buf, 0);
    if (typeof p !== 'number') r.munmap(p);
    r.mmap(4 * PAGE, u.PROT_READ, u.MAP_SHARED, buf, 0);
    r.ioctl(buf, u.DMA_BUF_IOCTL_SYNC, u.dma_buf_sync.encode({ flags: BigInt(u.DMA_BUF_SYNC_RW) }));
    r.ioctl(buf, u.DMA_BUF_IOCTL_SYNC, u.dma_buf_sync.encode({ flags: BigInt(u.DMA_BUF_SYNC_RW | u.DMA_BUF_SYNC_END) }));
    r.readFile('/sys/kernel/debug/dma_buf/bufinfo');
    r.close(buf);
  }
  // more than the CMA area (the built kernel's is 32 MiB, the emulator's 64 MiB), and the flags the core checks for every heap
  for (const [len, fd_flags, heap_flags] of [[128n << 20n, u.O_RDWR, 0n], [0n, u.O_RDWR, 0n], [4096n, u.O_NONBLOCK, 0n], [4096n, u.O_RDWR, 1n]] as const) {
    const arg = u.dma_heap_allocation_data.encode({ len, fd_flags, heap_flags });
    if (r.ioctl(h, u.DMA_HEAP_IOCTL_ALLOC, arg) === 0) r.close(u.dma_heap_allocation_data.get(arg, 'fd'));
  }
  r.close(h);
}
