/**
 * What the dma-buf framework prints: fdinfo (fs/proc/fd.c and
 * dma_buf_show_fdinfo), debugfs bufinfo (dma_buf_debug_show, with
 * attachments and fences), and the sysfs stats
 * (/sys/kernel/dmabuf/buffers/<ino>, CONFIG_DMABUF_SYSFS_STATS).
 */
import * as u from '../../../src/uapi/index.js';
import type { Recorder } from '../recorder.js';
import type { Env } from '../env.js';
import { fdinfo, fenceAttach, fenceSignal, PAGE, primeImport, sealedMemfd, systemBuf, udmabufCreate, vgemBuffer } from './lib.js';

const BUFINFO = '/sys/kernel/debug/dma_buf/bufinfo';

/** fdinfo of dma-bufs made with each fd flag, with O_NONBLOCK set later, named, dup'ed. */
export function fdinfoLines(r: Recorder): void {
  for (const flags of [u.O_RDONLY, u.O_WRONLY, u.O_RDWR | u.O_CLOEXEC, u.O_ACCMODE]) {
    const buf = systemBuf(r, PAGE, flags);
    fdinfo(r, buf);
    r.close(buf);
  }
  const buf = systemBuf(r, 5 * PAGE);
  r.fcntl(buf, u.F_SETFL, u.O_NONBLOCK);
  r.ioctl(buf, u.DMA_BUF_SET_NAME_B, new TextEncoder().encode('named\0'));
  const d = r.dup(buf);
  fdinfo(r, buf);
  fdinfo(r, d);
  r.close(d);
  r.close(buf);
  r.readFile('/proc/self/fdinfo/999999');
  r.readFile('/proc/self/fdinfo/-1');
  r.readFile('/proc/self/fdinfo/01');
}

/** bufinfo with no buffer, with two (one named), with a vgem attachment and a pending fence, and after. */
export function bufinfo(r: Recorder, env: Env): void {
  r.readFile(BUFINFO);
  const a = systemBuf(r, 2 * PAGE);
  const b = systemBuf(r, PAGE, u.O_RDONLY);
  r.ioctl(b, u.DMA_BUF_SET_NAME_A, new TextEncoder().encode('bee\0'));
  r.readFile(BUFINFO);
  env.need('vgem');
  const { card, handle, buf } = vgemBuffer(r, env);
  const imported = primeImport(r, card, a);
  const f = fenceAttach(r, card, imported, u.VGEM_FENCE_WRITE);
  const g = fenceAttach(r, card, handle, 0);
  r.readFile(BUFINFO);
  fenceSignal(r, card, f);
  fenceSignal(r, card, g);
  r.readFile(BUFINFO);
  r.ioctl(card, u.DRM_IOCTL_GEM_CLOSE, u.drm_gem_close.encode({ handle: imported }));
  r.close(buf);
  r.close(card);
  r.readFile(BUFINFO);
  r.close(b);
  r.close(a);
  r.readFile(BUFINFO);
}

/** The sysfs stats: one directory per buffer (named by its inode), exporter_name and size, gone with the buffer. */
export function sysfsStats(r: Recorder, env: Env): void {
  env.need('sysfsStats');
  r.readdir('/sys/kernel/dmabuf');
  r.readdir('/sys/kernel/dmabuf/buffers');
  const bufs: number[] = [systemBuf(r, 3 * PAGE)];
  if (env.udmabuf) {
    const dev = r.open('/dev/udmabuf', u.O_RDWR | u.O_CLOEXEC);
    const m = sealedMemfd(r, PAGE);
    bufs.push(udmabufCreate(r, dev, m, 0, PAGE));
    r.close(m);
    r.close(dev);
  }
  let card = -1;
  if (env.vgemCard) {
    const v = vgemBuffer(r, env);
    card = v.card;
    bufs.push(v.buf);
  }
  r.readdir('/sys/kernel/dmabuf/buffers');
  const inos: bigint[] = [];
  for (const b of bufs) {
    const st = r.fstat(b);
    if (typeof st === 'number') continue;
    inos.push(st.st_ino);
    const dir = `/sys/kernel/dmabuf/buffers/${st.st_ino}`;
    r.readdir(dir);
    r.readFile(`${dir}/exporter_name`);
    r.readFile(`${dir}/size`);
    r.readFile(`${dir}/nothing`);
  }
  for (const b of bufs) r.close(b);
  if (card >= 0) r.close(card);
  r.readdir('/sys/kernel/dmabuf/buffers');
  for (const ino of inos) r.readFile(`/sys/kernel/dmabuf/buffers/${ino}/size`);
}
