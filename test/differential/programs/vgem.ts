/**
 * vgem (drivers/gpu/drm/vgem) and the DRM core it runs on (drm_ioctl.c,
 * drm_gem.c, drm_prime.c): the queries, dumb buffers and their mappings,
 * flink, PRIME, and the primary node against the render node.
 */
import * as u from '../../../src/uapi/index.js';
import type { Recorder } from '../recorder.js';
import type { Env } from '../env.js';
import { dumbCreate, fdLink, fenceAttach, fenceSignal, PAGE, primeExport, primeImport, systemBuf } from './lib.js';

/** DRM_IOCTL_VERSION with buffers of every size (the lengths written back are the full ones), GET_CAP, SET_VERSION. */
export function queries(r: Recorder, env: Env): void {
  env.need('vgem');
  const card = r.open(env.vgemCard!, u.O_RDWR | u.O_CLOEXEC);
  for (const room of [0, 2, 4, 64]) {
    const arg = u.drm_version.encode({
      name_len: BigInt(room), name: room ? 64n : 0n,
      date_len: BigInt(room), date: room ? BigInt(64 + room) : 0n,
      desc_len: BigInt(room), desc: room ? BigInt(64 + 2 * room) : 0n,
    }, 3 * room);
    r.ioctl(card, u.DRM_IOCTL_VERSION, arg);
  }
  // a length with no buffer: nothing is copied, the length is still set
  r.ioctl(card, u.DRM_IOCTL_VERSION, u.drm_version.encode({ name_len: 8n }));
  r.ioctl(card, u.DRM_IOCTL_VERSION, 0);
  for (const cap of [u.DRM_CAP_DUMB_BUFFER, u.DRM_CAP_VBLANK_HIGH_CRTC, u.DRM_CAP_DUMB_PREFERRED_DEPTH, u.DRM_CAP_DUMB_PREFER_SHADOW, u.DRM_CAP_PRIME, u.DRM_CAP_TIMESTAMP_MONOTONIC, u.DRM_CAP_SYNCOBJ, 0, 0x100, 1n << 32n | 1n]) {
    r.ioctl(card, u.DRM_IOCTL_GET_CAP, u.drm_get_cap.encode({ capability: BigInt(cap), value: 77n }));
  }
  for (const v of [[-1, -1, -1, -1], [1, 4, -1, -1], [1, 5, -1, -1], [2, 0, -1, -1], [-1, -1, 1, 0], [-1, -1, 1, 1], [-1, -1, 2, 0]]) {
    r.ioctl(card, u.DRM_IOCTL_SET_VERSION, u.drm_set_version.encode({ drm_di_major: v[0], drm_di_minor: v[1], drm_dd_major: v[2], drm_dd_minor: v[3] }));
  }
  // DRM numbers with no ioctl in Linux 6.12 (a core one, past the core table, a driver one vgem has not)
  r.ioctl(card, u._IOWR('d', 0x0e, 8), new Uint8Array(8));
  r.ioctl(card, u._IOWR('d', 0x43, 8), new Uint8Array(8));
  r.ioctl(card, u._IOWR('d', 0xff, 8), new Uint8Array(8));
  r.close(card);
}

/** Dumb buffers: sizes, invalid arguments, their fake offsets, mappings through the card, flink and GEM_OPEN, close. */
export function dumbBuffers(r: Recorder, env: Env): void {
  env.need('vgem');
  const card = r.open(env.vgemCard!, u.O_RDWR | u.O_CLOEXEC);
  for (const [w, h, bpp, flags] of [[0, 16, 32, 0], [64, 0, 32, 0], [64, 16, 0, 0], [64, 16, 32, 1], [1, 1, 8, 0], [1000, 3, 24, 0], [65536, 65536, 32, 0], [0xffffffff, 2, 32, 0]]) {
    const arg = u.drm_mode_create_dumb.encode({ width: w, height: h, bpp, flags });
    if (r.ioctl(card, u.DRM_IOCTL_MODE_CREATE_DUMB, arg) === 0) {
      r.ioctl(card, u.DRM_IOCTL_MODE_DESTROY_DUMB, u.drm_mode_destroy_dumb.encode({ handle: u.drm_mode_create_dumb.get(arg, 'handle') }));
    }
  }
  // the outputs going in are ignored
  const withOut = u.drm_mode_create_dumb.encode({ width: 16, height: 16, bpp: 32, handle: 99, pitch: 1, size: 1n });
  r.ioctl(card, u.DRM_IOCTL_MODE_CREATE_DUMB, withOut);
  const { handle } = dumbCreate(r, card, 32, 64, 32);
  const map = u.drm_mode_map_dumb.encode({ handle });
  r.ioctl(card, u.DRM_IOCTL_MODE_MAP_DUMB, map);
  r.ioctl(card, u.DRM_IOCTL_MODE_MAP_DUMB, u.drm_mode_map_dumb.encode({ handle, pad: 1 }));
  r.ioctl(card, u.DRM_IOCTL_MODE_MAP_DUMB, u.drm_mode_map_dumb.encode({ handle: 1234 }));
  const offset = u.drm_mode_map_dumb.get(map, 'offset');
  const v = r.mmap(2 * PAGE, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, card, offset);
  if (typeof v !== 'number') {
    r.peek(v, 0, 4);
    r.poke(v, PAGE, [1, 2, 3]);
    r.munmap(v);
  }
  for (const [len, off] of [[3 * PAGE, offset], [PAGE, offset + 4096n], [PAGE, 0n], [PAGE, offset + (1n << 30n)]] as const) {
    const m = r.mmap(len, u.PROT_READ, u.MAP_SHARED, card, off);
    if (typeof m !== 'number') r.munmap(m);
  }
  const priv = r.mmap(PAGE, u.PROT_READ, u.MAP_PRIVATE, card, offset);
  if (typeof priv !== 'number') r.munmap(priv);
  // flink names and GEM_OPEN (the same object under a second handle)
  const flink = u.drm_gem_flink.encode({ handle });
  r.ioctl(card, u.DRM_IOCTL_GEM_FLINK, flink);
  r.ioctl(card, u.DRM_IOCTL_GEM_FLINK, u.drm_gem_flink.encode({ handle }));
  r.ioctl(card, u.DRM_IOCTL_GEM_FLINK, u.drm_gem_flink.encode({ handle: 777 }));
  const open = u.drm_gem_open.encode({ name: u.drm_gem_flink.get(flink, 'name') });
  r.ioctl(card, u.DRM_IOCTL_GEM_OPEN, open);
  r.ioctl(card, u.DRM_IOCTL_GEM_OPEN, u.drm_gem_open.encode({ name: 0 }));
  r.ioctl(card, u.DRM_IOCTL_GEM_CLOSE, u.drm_gem_close.encode({ handle: u.drm_gem_open.get(open, 'handle') }));
  r.ioctl(card, u.DRM_IOCTL_GEM_CLOSE, u.drm_gem_close.encode({ handle: u.drm_gem_open.get(open, 'handle') }));
  r.ioctl(card, u.DRM_IOCTL_GEM_CLOSE, u.drm_gem_close.encode({ handle, pad: 1 }));
  r.ioctl(card, u.DRM_IOCTL_MODE_DESTROY_DUMB, u.drm_mode_destroy_dumb.encode({ handle }));
  r.ioctl(card, u.DRM_IOCTL_MODE_DESTROY_DUMB, u.drm_mode_destroy_dumb.encode({ handle }));
  r.ioctl(card, u.DRM_IOCTL_GEM_CLOSE, u.drm_gem_close.encode({ handle: 0 }));
  // handles are the lowest free number of the file (idr_alloc from 1)
  const first = dumbCreate(r, card).handle;
  const second = dumbCreate(r, card).handle;
  r.ioctl(card, u.DRM_IOCTL_GEM_CLOSE, u.drm_gem_close.encode({ handle: first }));
  dumbCreate(r, card);
  dumbCreate(r, card);
  r.ioctl(card, u.DRM_IOCTL_GEM_CLOSE, u.drm_gem_close.encode({ handle: second }));
  r.close(card);
}

/** PRIME: export flags, the same dma-buf twice, import of its own export and of a system-heap buffer, the handles' lifetime. */
export function prime(r: Recorder, env: Env): void {
  env.need('vgem');
  const card = r.open(env.vgemCard!, u.O_RDWR | u.O_CLOEXEC);
  const { handle } = dumbCreate(r, card, 64, 16, 32);
  for (const flags of [0, u.DRM_CLOEXEC, u.DRM_RDWR, u.O_NONBLOCK, u.O_WRONLY, 0x10]) {
    const fd = primeExport(r, card, handle, flags);
    if (fd >= 0) {
      r.fcntl(fd, u.F_GETFL);
      r.fcntl(fd, u.F_GETFD);
      r.close(fd);
    }
  }
  primeExport(r, card, 4321);
  const a = primeExport(r, card, handle);
  const b = primeExport(r, card, handle);
  r.fstat(a);
  r.fstat(b);
  fdLink(r, a);
  r.readFile(`/proc/self/fdinfo/${a}`);
  primeImport(r, card, a);
  primeImport(r, card, b);
  // a system-heap buffer imported: a new handle, the same one the second time
  const sys = systemBuf(r, 2 * PAGE);
  const h2 = primeImport(r, card, sys);
  primeImport(r, card, sys);
  r.ioctl(card, u.DRM_IOCTL_MODE_MAP_DUMB, u.drm_mode_map_dumb.encode({ handle: h2 }));
  const back = primeExport(r, card, h2);
  r.fstat(back);
  r.fstat(sys);
  r.readFile('/sys/kernel/debug/dma_buf/bufinfo');
  primeImport(r, card, card);
  primeImport(r, card, -1);
  r.close(back);
  r.ioctl(card, u.DRM_IOCTL_GEM_CLOSE, u.drm_gem_close.encode({ handle: h2 }));
  r.close(sys);
  const m = r.mmap(PAGE, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, a, 0);
  if (typeof m !== 'number') {
    r.poke(m, 0, [0x42]);
    r.munmap(m);
  }
  r.close(a);
  r.close(b);
  r.ioctl(card, u.DRM_IOCTL_GEM_CLOSE, u.drm_gem_close.encode({ handle }));
  r.readFile('/sys/kernel/debug/dma_buf/bufinfo');
  r.close(card);
}

/**
 * drm_ioctl_permit(): on the render node only DRM_RENDER_ALLOW ioctls run;
 * every ioctl here on the primary node and on the render node.
 */
export function nodePermissions(r: Recorder, env: Env): void {
  env.need('vgem');
  for (const path of [env.vgemCard!, env.vgemRender!]) {
    r.note(path === env.vgemCard ? 'the primary node' : 'the render node');
    const fd = r.open(path, u.O_RDWR | u.O_CLOEXEC);
    r.fstat(fd);
    fdLink(r, fd);
    r.readFile(`/proc/self/fdinfo/${fd}`);
    r.ioctl(fd, u.DRM_IOCTL_VERSION, u.drm_version.encode({}));
    r.ioctl(fd, u.DRM_IOCTL_GET_CAP, u.drm_get_cap.encode({ capability: BigInt(u.DRM_CAP_PRIME) }));
    r.ioctl(fd, u.DRM_IOCTL_SET_VERSION, u.drm_set_version.encode({ drm_di_major: -1, drm_di_minor: -1, drm_dd_major: -1, drm_dd_minor: -1 }));
    const { handle } = dumbCreate(r, fd);
    r.ioctl(fd, u.DRM_IOCTL_MODE_MAP_DUMB, u.drm_mode_map_dumb.encode({ handle: Math.max(handle, 1) }));
    const flink = u.drm_gem_flink.encode({ handle: Math.max(handle, 1) });
    r.ioctl(fd, u.DRM_IOCTL_GEM_FLINK, flink);
    const open = u.drm_gem_open.encode({ name: Math.max(u.drm_gem_flink.get(flink, 'name'), 1) });
    if (r.ioctl(fd, u.DRM_IOCTL_GEM_OPEN, open) === 0) r.ioctl(fd, u.DRM_IOCTL_GEM_CLOSE, u.drm_gem_close.encode({ handle: u.drm_gem_open.get(open, 'handle') }));
    const sys = systemBuf(r);
    const h = primeImport(r, fd, sys);
    const out = primeExport(r, fd, Math.max(h, 1));
    const fence = fenceAttach(r, fd, Math.max(h, 1), u.VGEM_FENCE_WRITE);
    fenceSignal(r, fd, Math.max(fence, 1));
    r.ioctl(fd, u.DRM_IOCTL_GEM_CLOSE, u.drm_gem_close.encode({ handle: Math.max(h, 1) }));
    r.ioctl(fd, u.DRM_IOCTL_MODE_DESTROY_DUMB, u.drm_mode_destroy_dumb.encode({ handle: Math.max(handle, 1) }));
    if (out >= 0) r.close(out);
    r.close(sys);
    r.fcntl(fd, u.F_SETFL, u.O_NONBLOCK);
    r.read(fd, 64);
    r.lseek(fd, 0, u.SEEK_SET);
    r.lseek(fd, 10, u.SEEK_CUR);
    r.close(fd);
  }
}
