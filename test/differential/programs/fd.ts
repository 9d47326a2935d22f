/**
 * The fd plumbing on every kind of fd this project has: fstat (st_mode,
 * st_size, ...), readlink of /proc/self/fd/N, fdinfo, fcntl F_GETFL/F_SETFL
 * (O_NONBLOCK, O_DIRECT, O_APPEND, O_NOATIME) and F_GETFD/F_SETFD, lseek,
 * read/write, poll, mmap, FIONREAD, dup; and a mapping's life after its fd
 * is closed.
 */
import * as u from '../../../src/uapi/index.js';
import type { Recorder } from '../recorder.js';
import type { Env } from '../env.js';
import { exportSyncFile, fdinfo, fdLink, PAGE, sealedMemfd, swTimeline, systemBuf, udmabufCreate } from './lib.js';

interface Options {
  /** bytes to try writing (omit for files a write would change in ways that matter) */
  write?: boolean;
  /** try mmap of a page (never touched) */
  mmap?: boolean;
}

/** Everything the fd plumbing says about `fd`, then close it. */
function inspect(r: Recorder, fd: number, o: Options = {}): void {
  r.fstat(fd);
  fdLink(r, fd);
  fdinfo(r, fd);
  r.fcntl(fd, u.F_GETFD);
  r.fcntl(fd, u.F_SETFD, 0);
  r.fcntl(fd, u.F_GETFD);
  r.fcntl(fd, u.F_SETFD, u.FD_CLOEXEC);
  r.fcntl(fd, u.F_GETFL);
  for (const fl of [u.O_NONBLOCK, u.O_DIRECT, u.O_APPEND | u.O_NOATIME, u.O_RDONLY | u.O_CREAT | u.O_TRUNC | u.O_WRONLY, u.O_NONBLOCK]) {
    r.fcntl(fd, u.F_SETFL, fl);
    r.fcntl(fd, u.F_GETFL);
  }
  for (const [off, wh] of [[0, u.SEEK_SET], [0, u.SEEK_END], [0, u.SEEK_CUR], [1, u.SEEK_SET], [-1, u.SEEK_SET], [0, u.SEEK_DATA], [0, 9]]) r.lseek(fd, off, wh);
  r.lseek(fd, 0, u.SEEK_SET);
  // O_NONBLOCK is set: a read that would wait (a DRM file's events) answers EAGAIN
  r.read(fd, 16);
  r.read(fd, 0);
  if (o.write) r.write(fd, 'w');
  r.ioctl(fd, u.FIONREAD, new Uint8Array(4));
  r.ioctl(fd, u.FIGETBSZ, new Uint8Array(4));
  r.poll([{ fd, events: u.POLLIN | u.POLLOUT | u.POLLPRI }]);
  if (o.mmap) {
    const v = r.mmap(PAGE, u.PROT_READ, u.MAP_SHARED, fd, 0);
    if (typeof v !== 'number') r.munmap(v);
  }
  const d = r.dup(fd);
  r.fstat(d);
  r.fcntl(d, u.F_GETFD);
  r.fcntl(d, u.F_GETFL);
  r.close(d);
  const d2 = r.fcntl(fd, u.F_DUPFD_CLOEXEC, 0);
  r.fcntl(d2, u.F_GETFD);
  r.close(d2);
  r.close(fd);
  r.close(fd);
  r.fstat(fd);
  r.fcntl(fd, u.F_GETFL);
}

/** A system-heap dma-buf (anon inode of the dmabuf filesystem: mode 0600, no file type, st_size the size). */
export function dmaBuf(r: Recorder): void {
  inspect(r, systemBuf(r, 3 * PAGE), { write: true, mmap: true });
}

/** A memfd (a shmem regular file) with bytes in it. */
export function memfd(r: Recorder): void {
  const fd = r.memfdCreate('plumbing', u.MFD_CLOEXEC);
  r.write(fd, 'hello, memfd');
  r.fcntl(fd, u.F_GET_SEALS);
  inspect(r, fd, { write: true, mmap: true });
  const sealed = r.memfdCreate('sealed', u.MFD_ALLOW_SEALING | u.MFD_NOEXEC_SEAL);
  r.fcntl(sealed, u.F_GET_SEALS);
  r.fstat(sealed);
  fdLink(r, sealed);
  r.close(sealed);
  for (const [name, flags] of [['', 0], ['x'.repeat(249), 0], ['x'.repeat(250), 0], ['bad', 0x100], ['huge', u.MFD_HUGETLB]] as const) {
    const m = r.memfdCreate(name, flags);
    if (m >= 0) {
      fdLink(r, m);
      r.close(m);
    }
  }
}

/** A sync_file (the stub fence, from an idle buffer). */
export function syncFile(r: Recorder): void {
  const buf = systemBuf(r);
  const sf = exportSyncFile(r, buf, u.DMA_BUF_SYNC_READ);
  // every sync_file is a file of the one anon inode (anon_inode_getfile)
  const other = exportSyncFile(r, buf, u.DMA_BUF_SYNC_WRITE);
  r.fstat(other);
  r.close(other);
  r.close(buf);
  inspect(r, sf, { write: true, mmap: true });
}

/** /dev/dma_heap/system, opened read-only. */
export function heapNode(r: Recorder): void {
  inspect(r, r.open('/dev/dma_heap/system', u.O_RDONLY | u.O_CLOEXEC), { write: true, mmap: true });
}

/** /dev/udmabuf, and a udmabuf dma-buf. */
export function udmabuf(r: Recorder, env: Env): void {
  env.need('udmabuf');
  const dev = r.open('/dev/udmabuf', u.O_RDWR);
  const m = sealedMemfd(r, 2 * PAGE);
  const buf = udmabufCreate(r, dev, m, 0, 2 * PAGE);
  r.close(m);
  inspect(r, buf, { write: true, mmap: true });
  inspect(r, dev, { write: true, mmap: true });
}

/** vgem's primary node (/dev/dri/card0). */
export function drmCard(r: Recorder, env: Env): void {
  env.need('vgem');
  inspect(r, r.open(env.vgemCard!, u.O_RDWR), { write: true, mmap: true });
}

/** vgem's render node (/dev/dri/renderD128). */
export function drmRender(r: Recorder, env: Env): void {
  env.need('vgem');
  inspect(r, r.open(env.vgemRender!, u.O_RDWR | u.O_CLOEXEC), { write: true, mmap: true });
}

/** A sw_sync timeline (<debugfs>/sync/sw_sync). */
export function swSync(r: Recorder, env: Env): void {
  inspect(r, swTimeline(r, env), { mmap: true });
}

/** Text files of procfs, debugfs and sysfs, and a directory. */
export function textFiles(r: Recorder, env: Env): void {
  const buf = systemBuf(r);
  inspect(r, r.open(`/proc/self/fdinfo/${buf}`, u.O_RDONLY), { write: true, mmap: true });
  inspect(r, r.open('/sys/kernel/debug/dma_buf/bufinfo', u.O_RDONLY), { mmap: true });
  r.open('/sys/kernel/debug/dma_buf/bufinfo', u.O_RDWR);
  if (env.sysfsStats) {
    const st = r.fstat(buf);
    if (typeof st !== 'number') {
      const dir = `/sys/kernel/dmabuf/buffers/${st.st_ino}`;
      r.readdir(dir);
      inspect(r, r.open(`${dir}/size`, u.O_RDONLY), { mmap: true });
      r.open(`${dir}/size`, u.O_WRONLY);
    }
  }
  inspect(r, r.open('/dev/dma_heap', u.O_RDONLY | u.O_DIRECTORY), {});
  r.close(buf);
}

/**
 * A dma-buf's life: its dups and fdinfo count, a mapping that outlives every
 * fd (bufinfo still lists the buffer until munmap), and fds used after close.
 */
export function lifetime(r: Recorder): void {
  const buf = systemBuf(r, 2 * PAGE);
  fdinfo(r, buf);
  const d = r.dup(buf);
  fdinfo(r, buf);
  const view = r.mmap(2 * PAGE, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, buf, 0);
  fdinfo(r, d);
  r.close(buf);
  fdinfo(r, d);
  r.readFile('/sys/kernel/debug/dma_buf/bufinfo');
  r.close(d);
  r.readFile('/sys/kernel/debug/dma_buf/bufinfo');
  if (typeof view !== 'number') {
    r.poke(view, PAGE, [1, 2, 3]);
    r.peek(view, PAGE, 4);
    r.munmap(view);
    r.munmap(view);
  }
  r.readFile('/sys/kernel/debug/dma_buf/bufinfo');
  r.fstat(buf);
  r.ioctl(buf, u.DMA_BUF_IOCTL_SYNC, u.dma_buf_sync.encode({ flags: 1n }));
  r.close(buf);
  r.readlink(`/proc/self/fd/${buf}`);
  r.readFile(`/proc/self/fdinfo/${buf}`);
}

/**
 * A memfd's mappings: a shared one writes the page cache (the pages it
 * touches count in st_blocks and are data for SEEK_DATA); a private one
 * reads the page cache until its first write to a page, which then becomes
 * its own copy.
 */
export function memfdMappings(r: Recorder): void {
  const fd = r.memfdCreate('mapped', 0);
  r.ftruncate(fd, 3 * PAGE);
  r.fstat(fd);
  const shared = r.mmap(3 * PAGE, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0);
  const priv = r.mmap(3 * PAGE, u.PROT_READ | u.PROT_WRITE, u.MAP_PRIVATE, fd, 0);
  if (typeof shared === 'number' || typeof priv === 'number') return;
  r.poke(shared, PAGE, [1, 2, 3]);
  r.fstat(fd);
  r.lseek(fd, 0, u.SEEK_DATA);
  r.peek(priv, PAGE, 4);
  r.note('a write(2) before the private mapping writes that page');
  r.lseek(fd, 2 * PAGE, u.SEEK_SET);
  r.write(fd, 'later');
  r.peek(priv, 2 * PAGE, 5);
  r.poke(priv, 2 * PAGE, [0x41]);
  r.peek(priv, 2 * PAGE, 5);
  r.peek(shared, 2 * PAGE, 5);
  r.poke(shared, 2 * PAGE + 1, [0x42]);
  r.peek(priv, 2 * PAGE, 5);
  r.munmap(priv);
  r.munmap(shared);
  r.close(fd);
}
