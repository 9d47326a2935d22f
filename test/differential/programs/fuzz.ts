/**
 * Programs the differential fuzzer found (npm run fuzz -- --differential,
 * test/fuzz/differential): each is a shrunk sequence on which the emulator
 * and Linux once answered differently, kept as a regression program once
 * the emulator was fixed or the difference listed. Each says what differed.
 * The fuzzer prints a new one ready to paste here.
 */
import * as u from '../../../src/uapi/index.js';
import type { Recorder } from '../recorder.js';
import type { Env } from '../env.js';

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const str = (s: string): Uint8Array => new TextEncoder().encode(s);
const setFd = (a: Uint8Array, at: number, fd: number): void => new DataView(a.buffer, a.byteOffset, a.byteLength).setInt32(at, fd, true);
const getFd = (a: Uint8Array, at: number): number => new DataView(a.buffer, a.byteOffset, a.byteLength).getInt32(at, true);

/**
 * open(2)'s flags (the fuzzer's first finding: O_CREAT|O_EXCL of a device
 * opened it). build_open_flags()'s EINVALs before the path, EEXIST, ENOTDIR,
 * EISDIR, O_DIRECT's EINVAL after the driver's open, DRM's EBUSY for O_EXCL,
 * the flags the file keeps, and an O_PATH file.
 */
export function openFlags(r: Recorder, env: Env): void {
  for (const [path, flags] of [
    ['/dev/null', u.O_RDWR | u.O_CREAT | u.O_EXCL],
    ['/dev/null', u.O_RDWR | u.O_CREAT],
    ['/dev/null', u.O_RDONLY | u.O_DIRECTORY],
    ['/dev/null', u.O_DIRECTORY | u.O_CREAT],
    ['/dev/null', u.O_RDWR | u.__O_TMPFILE],
    ['/dev/null', u.O_RDWR | u.O_TMPFILE],
    ['/dev/null', u.O_RDONLY | u.O_DIRECT],
    ['', u.O_RDWR | u.__O_TMPFILE],
    ['/dev/dma_heap', u.O_RDONLY | u.O_CREAT],
    ['/dev/dma_heap', u.O_RDONLY | u.O_TRUNC],
    ['/dev/kmsg', u.O_WRONLY | u.O_CREAT | u.O_NOCTTY | u.O_TRUNC | u.O_APPEND | u.__O_SYNC],
    ['/sys/kernel/debug/dma_buf/bufinfo', u.O_RDONLY | u.O_DIRECTORY],
    [env.vgemCard ?? '/dev/dri/card0', u.O_RDWR | u.O_EXCL],
    [env.vgemRender ?? '/dev/dri/renderD128', u.O_RDWR | u.O_DIRECT],
  ] as [string, number][]) {
    const fd = r.open(path, flags);
    if (fd >= 0) {
      r.fcntl(fd, u.F_GETFL);
      r.close(fd);
    }
  }
  const p = r.open('/dev/dma_heap/system', u.O_PATH | u.O_RDWR | u.O_CREAT | u.O_EXCL | u.O_NONBLOCK | u.O_NOFOLLOW);
  r.fcntl(p, u.F_GETFL);
  r.fcntl(p, u.F_SETFL, u.O_NONBLOCK);
  r.ioctl(p, u.DMA_HEAP_IOCTL_ALLOC, u.dma_heap_allocation_data.encode({ len: 4096n, fd_flags: u.O_RDWR }));
  r.read(p, 8);
  r.lseek(p, 0, u.SEEK_SET);
  r.poll([{ fd: p, events: u.POLLIN }], 0);
  const d = r.dup(p);
  r.close(d);
  r.close(p);
}

/** mmap's order: the offset, then the fd, then the length, then the map type (shrunk from seeds 12, 579253, 828376479). */
export function mmapOrder(r: Recorder): void {
  r.mmap(0, 0, u.MAP_SHARED, -8, 1);
  r.mmap(1, 0, u.MAP_SHARED_VALIDATE, 1000000, 1);
  r.mmap(0, 0, u.MAP_PRIVATE, -8, 0);
  const m = r.memfdCreate('fuzz', 0);
  r.mmap(0, u.PROT_READ, u.MAP_SHARED, m, 0);
  r.mmap(-1, u.PROT_READ, 0, m, 0);
  r.mmap(4096, u.PROT_READ, 0, m, 0);
  r.mmap(4096, u.PROT_READ, u.MAP_SHARED_VALIDATE | u.MAP_ANONYMOUS, -1, 0);
  r.close(m);
}

/** F_ADD_SEALS on a file that is no memfd, or with unknown bits; a write of nothing to a sealed memfd (seed 415510670). */
export function seals(r: Recorder): void {
  const ro = r.open('/dev/null', u.O_RDONLY);
  r.fcntl(ro, u.F_ADD_SEALS, 0x40000000);
  const rw = r.open('/dev/null', u.O_RDWR);
  r.fcntl(rw, u.F_ADD_SEALS, u.F_SEAL_SHRINK);
  const m = r.memfdCreate('fuzz', 0);
  r.fcntl(m, u.F_ADD_SEALS, 0x40000000);
  r.fcntl(m, u.F_ADD_SEALS, u.F_SEAL_SHRINK);
  const s = r.memfdCreate('fuzz', u.MFD_ALLOW_SEALING);
  r.ftruncate(s, 0);
  r.fcntl(s, u.F_ADD_SEALS, u.F_SEAL_WRITE);
  r.write(s, str(''));
  r.write(s, str('x'));
  for (const fd of [ro, rw, m, s]) r.close(fd);
}

/** /dev/kmsg seeks only to 0 (seed 226439947); FIBMAP on a memfd; an fdinfo whose fd was closed (seed 647007169). */
export function seeks(r: Recorder): void {
  const k = r.open('/dev/kmsg', u.O_RDONLY);
  r.lseek(k, -1, u.SEEK_SET);
  r.lseek(k, 5, u.SEEK_CUR);
  r.lseek(k, 0, u.SEEK_CUR);
  r.lseek(k, 0, u.SEEK_DATA);
  r.close(k);
  const m = r.memfdCreate('fuzz', 0);
  r.ioctl(m, 0x1, 0); // FIBMAP
  const info = r.open(`/proc/self/fdinfo/${m}`, u.O_RDONLY);
  r.lseek(info, 1 << 30, u.SEEK_SET);
  r.close(m);
  r.lseek(info, 0, u.SEEK_CUR);
  r.lseek(info, 5, u.SEEK_SET);
  r.read(info, 64);
  r.close(info);
}

/** A DRM file that imported a dma-buf, closed: the buffer's count is back when close returns (seed 21, stock kernel). */
export function primeClose(r: Recorder, env: Env): void {
  env.need('vgem');
  const heap = r.open('/dev/dma_heap/system', u.O_RDWR | u.O_CLOEXEC);
  const a = u.dma_heap_allocation_data.encode({ len: 1n });
  r.ioctl(heap, u.DMA_HEAP_IOCTL_ALLOC, a);
  const buf = getFd(a, 8);
  const card = r.open(env.vgemCard!, u.O_RDWR);
  r.ioctl(card, u.DRM_IOCTL_PRIME_FD_TO_HANDLE, u.drm_prime_handle.encode({ fd: buf }));
  r.close(card);
  r.readFile(`/proc/self/fdinfo/${buf}`);
  r.close(buf);
  r.close(heap);
}

/** An executable mapping of a procfs file is EPERM (SB_I_NOEXEC) before ENODEV (the long run, seed 777). */
export function procExecMap(r: Recorder): void {
  const m = r.memfdCreate('fuzz', u.MFD_ALLOW_SEALING);
  const info = r.open(`/proc/self/fdinfo/${m}`, u.O_RDONLY);
  r.mmap(1, u.PROT_EXEC, u.MAP_SHARED, info, 0);
  r.mmap(1, u.PROT_READ, u.MAP_SHARED, info, 0);
  r.close(info);
  r.close(m);
}

/** DRM_IOCTL_MODE_CREATE_DUMB's u32 overflow checks (the long run, seed 37506568). */
export function dumbOverflow(r: Recorder, env: Env): void {
  env.need('vgem');
  const card = r.open(env.vgemCard!, u.O_RDWR);
  for (const [width, height, bpp] of [[0x20000000, 8, 7], [1, 1, 0xffffffff], [0xfffff001, 1, 8], [0x10000, 0x10000, 8], [64, 64, 7], [3, 5, 1]]) {
    const a = u.drm_mode_create_dumb.encode({ width, height, bpp });
    if (r.ioctl(card, u.DRM_IOCTL_MODE_CREATE_DUMB, a) === 0) r.ioctl(card, u.DRM_IOCTL_GEM_CLOSE, u.drm_gem_close.encode({ handle: u.drm_mode_create_dumb.get(a, 'handle') }));
  }
  r.close(card);
}
