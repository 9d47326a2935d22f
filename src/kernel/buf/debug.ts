/**
 * What the dma-bufs show of themselves: debugfs bufinfo
 * (dma_buf_debug_show) and the sysfs stats attributes
 * (dma-buf-sysfs-stats.c), byte for byte Linux's formats, and
 * dma_buf_init(), which registers them (the fdinfo lines are
 * dma_buf_show_fdinfo in dma-buf.ts).
 */
import { ENOENT } from '../lib/errno.js';
import { kconfig } from '../lib/kconfig.js';
import { statsRegister } from '../lib/stats.js';
import { fput, getFile } from '../fs/file.js';
import { debugfsCreateDir, debugfsCreateFile } from '../fs/debugfs.js';
import { kernelKobj, kobjectCreateAndAdd, sysfsCreateDynamicDir, sysfsGroupNode } from '../fs/sysfs.js';
import type { DirNode } from '../fs/registry.js';
import { dmaBufByIno, dmaBufList, dmaBufStats } from './dma-buf.js';

const pad = (n: number, w = 8): string => String(n).padStart(w, '0');
const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

/**
 * /sys/kernel/debug/dma_buf/bufinfo. Takes each buffer's resv lock
 * (interruptibly: a negative errno if `signal` fires).
 */
export async function dmaBufDebugShow(signal?: AbortSignal): Promise<string | number> {
  let s = '\nDma-buf Objects:\n';
  s += `${'size'.padEnd(8)}\t${'flags'.padEnd(8)}\t${'mode'.padEnd(8)}\t${'count'.padEnd(8)}\texp_name\t${'ino'.padEnd(8)}\tname\n`;
  let count = 0;
  let size = 0;
  for (const buf of dmaBufList()) {
    // Linux holds the buffer list's mutex for the whole walk, so no buffer is
    // released under it; here release cannot wait, so the walk holds a file
    // reference on the buffer it shows (and skips those released meanwhile).
    if (buf.released || buf.file.refcount === 0) continue;
    getFile(buf.file);
    try {
      const ret = await buf.resv.lockInterruptible(null, signal);
      if (ret) return ret;
      s += `${pad(buf.size)}\t${hex8(buf.file.fFlags)}\t${hex8(buf.file.fMode)}\t${pad(buf.file.refcount - 1)}\t${buf.expName}\t${pad(buf.ino)}\t${buf.name ?? '<none>'}\n`;
      s += buf.resv.describe();
      s += '\tAttached Devices:\n';
      for (const a of buf.attachments) s += `\t${a.dev.devName()}\n`;
      const attached = buf.attachments.length;
      buf.resv.unlock();
      s += `Total ${attached} devices attached\n\n`;
      count++;
      size += buf.size;
    } finally {
      fput(buf.file);
    }
  }
  s += `\nTotal ${count} objects, ${size} bytes\n`;
  return s;
}

/** /sys/kernel/dmabuf/buffers: the directory names (inode numbers). */
export function dmaBufSysfsBuffers(): string[] {
  return dmaBufList().map((b) => String(b.ino));
}

/** /sys/kernel/dmabuf/buffers/<ino>/<attr>: the text, or -ENOENT. */
export function dmaBufSysfsRead(ino: number, attr: string): string | number {
  const buf = dmaBufByIno(ino);
  if (!buf) return -ENOENT;
  if (attr === 'exporter_name') return `${buf.expName}\n`;
  if (attr === 'size') return `${buf.size}\n`;
  return -ENOENT;
}

/** The sysfs directory of one buffer: exporter_name and size, read-only. */
function dmaBufSysfsDir(name: string): DirNode | null {
  // Only the canonical decimal spelling names a buffer ('012' does not).
  const buf = /^(0|[1-9][0-9]*)$/.test(name) ? dmaBufByIno(Number(name)) : undefined;
  if (!buf) return null;
  const ino = buf.ino;
  return sysfsGroupNode(name, [
    { name: 'exporter_name', mode: 0o444, show: () => dmaBufSysfsRead(ino, 'exporter_name') },
    { name: 'size', mode: 0o444, show: () => dmaBufSysfsRead(ino, 'size') },
  ]);
}

/**
 * dma_buf_init() (subsys_initcall): <debugfs>/dma_buf/bufinfo (0444), with
 * CONFIG_DMABUF_SYSFS_STATS the /sys/kernel/dmabuf/buffers directory (one
 * entry per live buffer), and the live dma-buf count among the kernel's
 * counters (Machine.stats().dmabufs).
 */
export function dmaBufInit(): number {
  const dir = debugfsCreateDir('dma_buf', null);
  debugfsCreateFile('bufinfo', 0o444, dir, null, { show: ({ task }) => dmaBufDebugShow(task.signal) });
  if (kconfig.DMABUF_SYSFS_STATS) {
    const dmabuf = kobjectCreateAndAdd('dmabuf', kernelKobj);
    sysfsCreateDynamicDir('buffers', dmabuf, { list: dmaBufSysfsBuffers, lookup: dmaBufSysfsDir });
  }
  return statsRegister('dmabufs', () => dmaBufStats.live);
}
