/**
 * udmabuf (drivers/dma-buf/udmabuf.c): a dma-buf over ranges of memfds.
 * Seals, ranges, flags, CREATE_LIST's limits and overlaps, and coherence
 * with the memfd.
 */
import * as u from '../../../src/uapi/index.js';
import type { Recorder } from '../recorder.js';
import type { Env } from '../env.js';
import { fdinfo, fdLink, PAGE, sealedMemfd, udmabufCreate } from './lib.js';

/** The memfd's seals: none, sealing not allowed, F_SEAL_SHRINK (wanted), with F_SEAL_WRITE or F_SEAL_FUTURE_WRITE (denied), others. */
export function seals(r: Recorder, env: Env): void {
  env.need('udmabuf');
  const dev = r.open('/dev/udmabuf', u.O_RDWR | u.O_CLOEXEC);
  const tryCreate = (memfd: number): void => {
    const buf = udmabufCreate(r, dev, memfd, 0, PAGE);
    if (buf >= 0) r.close(buf);
  };
  const plain = r.memfdCreate('plain', 0);
  r.ftruncate(plain, PAGE);
  r.fcntl(plain, u.F_GET_SEALS);
  tryCreate(plain);
  r.fcntl(plain, u.F_ADD_SEALS, u.F_SEAL_SHRINK);
  r.close(plain);
  for (const s of [0, u.F_SEAL_SHRINK, u.F_SEAL_SHRINK | u.F_SEAL_GROW, u.F_SEAL_SHRINK | u.F_SEAL_WRITE, u.F_SEAL_SHRINK | u.F_SEAL_FUTURE_WRITE, u.F_SEAL_SHRINK | u.F_SEAL_SEAL, u.F_SEAL_GROW, u.F_SEAL_SHRINK | u.F_SEAL_EXEC]) {
    const m = r.memfdCreate('sealed', u.MFD_ALLOW_SEALING);
    r.ftruncate(m, PAGE);
    if (s) r.fcntl(m, u.F_ADD_SEALS, s);
    r.fcntl(m, u.F_GET_SEALS);
    tryCreate(m);
    r.close(m);
  }
  // not a memfd: the udmabuf device itself, a dma-buf; -1
  tryCreate(dev);
  const m = sealedMemfd(r, PAGE);
  const buf = udmabufCreate(r, dev, m, 0, PAGE);
  if (buf >= 0) {
    tryCreate(buf);
    r.close(buf);
  }
  tryCreate(0xffffffff);
  r.close(m);
  r.close(dev);
}

/** Offsets and sizes: aligned or not, empty, past the end, bits above 31 of the u64s, over size_limit_mb; flags. */
export function ranges(r: Recorder, env: Env): void {
  env.need('udmabuf');
  const dev = r.open('/dev/udmabuf', u.O_RDWR | u.O_CLOEXEC);
  const m = sealedMemfd(r, 4 * PAGE);
  const cases: [number | bigint, number | bigint, number][] = [
    [0, PAGE, 0], [0, 4 * PAGE, 0], [PAGE, 3 * PAGE, 0], [3 * PAGE, PAGE, 0], [0, 0, 0], [1, PAGE, 0], [0, PAGE + 1, 0], [0, 5 * PAGE, 0],
    [4 * PAGE, PAGE, 0], [3 * PAGE, 2 * PAGE, 0], [1n << 32n, PAGE, 0], [0, (1n << 32n) + 4096n, 0], [0xfffffffffffff000n, PAGE, 0], [PAGE, 0xfffffffffffff000n, 0],
    [0, 65n << 20n, 0], [0, PAGE, u.UDMABUF_FLAGS_CLOEXEC], [0, PAGE, 2], [0, PAGE, 0x80000000],
  ];
  for (const [offset, size, flags] of cases) {
    const buf = udmabufCreate(r, dev, m, offset, size, flags);
    if (buf < 0) continue;
    r.fcntl(buf, u.F_GETFD);
    r.fcntl(buf, u.F_GETFL);
    r.lseek(buf, 0, u.SEEK_END);
    r.close(buf);
  }
  r.ioctl(dev, u.UDMABUF_CREATE, 0);
  r.ioctl(dev, u._IOW('u', 0x44, 24), new Uint8Array(24));
  r.ioctl(dev, u.DMA_BUF_IOCTL_SYNC, u.dma_buf_sync.encode({ flags: 1n }));
  r.close(m);
  r.close(dev);
}

/** The buffer as a file: fstat, readlink, fdinfo, SYNC, mmap shared and private, and seals that its pins forbid. */
export function buffer(r: Recorder, env: Env): void {
  env.need('udmabuf');
  const dev = r.open('/dev/udmabuf', u.O_RDWR | u.O_CLOEXEC);
  const m = sealedMemfd(r, 2 * PAGE);
  const buf = udmabufCreate(r, dev, m, 0, 2 * PAGE, u.UDMABUF_FLAGS_CLOEXEC);
  r.fstat(buf);
  fdLink(r, buf);
  fdinfo(r, buf);
  for (const f of [u.DMA_BUF_SYNC_READ, u.DMA_BUF_SYNC_RW | u.DMA_BUF_SYNC_END, u.DMA_BUF_SYNC_WRITE]) r.ioctl(buf, u.DMA_BUF_IOCTL_SYNC, u.dma_buf_sync.encode({ flags: BigInt(f) }));
  const priv = r.mmap(PAGE, u.PROT_READ, u.MAP_PRIVATE, buf, 0);
  if (typeof priv !== 'number') r.munmap(priv);
  const too = r.mmap(3 * PAGE, u.PROT_READ, u.MAP_SHARED, buf, 0);
  if (typeof too !== 'number') r.munmap(too);
  // the memfd, with its pages pinned: adding F_SEAL_WRITE waits for pins that stay, and gives up
  r.fcntl(m, u.F_ADD_SEALS, u.F_SEAL_GROW);
  r.fcntl(m, u.F_GET_SEALS);
  r.ftruncate(m, 3 * PAGE);
  r.ftruncate(m, PAGE);
  r.fstat(m);
  r.close(buf);
  r.close(m);
  r.close(dev);
}

/** Bytes written through the memfd (write(2) and a mapping) seen through the udmabuf's mapping, and back. */
export function coherence(r: Recorder, env: Env): void {
  env.need('udmabuf');
  const dev = r.open('/dev/udmabuf', u.O_RDWR | u.O_CLOEXEC);
  const m = sealedMemfd(r, 3 * PAGE);
  r.lseek(m, PAGE - 2, u.SEEK_SET);
  r.write(m, 'abcd');
  const buf = udmabufCreate(r, dev, m, PAGE, 2 * PAGE);
  const view = r.mmap(2 * PAGE, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, buf, 0);
  const mview = r.mmap(3 * PAGE, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, m, 0);
  if (typeof view !== 'number' && typeof mview !== 'number') {
    r.peek(view, 0, 4);
    r.poke(mview, PAGE + 8, [1, 2, 3]);
    r.peek(view, 8, 4);
    r.poke(view, PAGE + 16, [4, 5, 6]);
    r.peek(mview, 2 * PAGE + 16, 4);
    r.lseek(m, 2 * PAGE + 16, u.SEEK_SET);
    r.read(m, 4);
    r.lseek(m, PAGE + 100, u.SEEK_SET);
    r.write(m, 'xyz');
    r.peek(view, 100, 4);
    r.munmap(mview);
    r.munmap(view);
  }
  r.fstat(m);
  r.close(buf);
  r.close(m);
  r.close(dev);
}

function list(r: Recorder, dev: number, items: { memfd: number; offset: number | bigint; size: number | bigint }[], flags = 0, count?: number): number {
  const arg = u.udmabuf_create_list.encode({ flags, count: count ?? items.length, list: items.map((i) => ({ memfd: i.memfd, offset: BigInt(i.offset), size: BigInt(i.size) })) });
  return r.ioctl(dev, u.UDMABUF_CREATE_LIST, arg);
}

/** CREATE_LIST: empty, over list_limit, two memfds, the same range twice, overlapping and out-of-order ranges; what the buffer maps. */
export function createList(r: Recorder, env: Env): void {
  env.need('udmabuf');
  const dev = r.open('/dev/udmabuf', u.O_RDWR | u.O_CLOEXEC);
  const a = sealedMemfd(r, 4 * PAGE, 'a');
  const b = sealedMemfd(r, 2 * PAGE, 'b');
  for (let p = 0; p < 4; p++) {
    r.lseek(a, p * PAGE, u.SEEK_SET);
    r.write(a, `a${p}`);
  }
  for (let p = 0; p < 2; p++) {
    r.lseek(b, p * PAGE, u.SEEK_SET);
    r.write(b, `b${p}`);
  }
  list(r, dev, []);
  list(r, dev, [], 0, 1025);
  list(r, dev, [{ memfd: a, offset: 0, size: PAGE }], 2);
  list(r, dev, [{ memfd: a, offset: 0, size: PAGE }, { memfd: a, offset: 0, size: 1 }]);
  list(r, dev, [{ memfd: a, offset: 0, size: PAGE }, { memfd: 0xffffffff, offset: 0, size: PAGE }]);
  const layouts: [string, { memfd: number; offset: number; size: number }[]][] = [
    ['one memfd, in order', [{ memfd: a, offset: 0, size: 2 * PAGE }, { memfd: a, offset: 2 * PAGE, size: 2 * PAGE }]],
    ['two memfds', [{ memfd: a, offset: PAGE, size: PAGE }, { memfd: b, offset: 0, size: 2 * PAGE }]],
    ['the same range twice', [{ memfd: a, offset: 0, size: PAGE }, { memfd: a, offset: 0, size: PAGE }]],
    ['overlapping ranges', [{ memfd: a, offset: 0, size: 2 * PAGE }, { memfd: a, offset: PAGE, size: 2 * PAGE }]],
    ['out of order', [{ memfd: a, offset: 3 * PAGE, size: PAGE }, { memfd: a, offset: 0, size: PAGE }]],
  ];
  for (const [what, items] of layouts) {
    r.note(what);
    const buf = list(r, dev, items, u.UDMABUF_FLAGS_CLOEXEC);
    if (buf < 0) continue;
    r.lseek(buf, 0, u.SEEK_END);
    const pages = items.reduce((n, i) => n + i.size / PAGE, 0);
    const v = r.mmap(pages * PAGE, u.PROT_READ, u.MAP_SHARED, buf, 0);
    if (typeof v !== 'number') {
      for (let p = 0; p < pages; p++) r.peek(v, p * PAGE, 2);
      r.munmap(v);
    }
    // one page at a time
    const one = r.mmap(PAGE, u.PROT_READ, u.MAP_SHARED, buf, PAGE);
    if (typeof one !== 'number') {
      r.peek(one, 0, 2);
      r.munmap(one);
    }
    r.ioctl(buf, u.DMA_BUF_IOCTL_SYNC, u.dma_buf_sync.encode({ flags: BigInt(u.DMA_BUF_SYNC_RW) }));
    r.ioctl(buf, u.DMA_BUF_IOCTL_SYNC, u.dma_buf_sync.encode({ flags: BigInt(u.DMA_BUF_SYNC_RW | u.DMA_BUF_SYNC_END) }));
    r.close(buf);
  }
  r.close(a);
  r.close(b);
  r.close(dev);
}
