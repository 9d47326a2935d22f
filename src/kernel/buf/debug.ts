/**
 * What a dma-buf shows of itself: debugfs bufinfo (dma_buf_debug_show),
 * /proc/<pid>/fdinfo lines (dma_buf_show_fdinfo), and the sysfs stats
 * attributes (dma-buf-sysfs-stats.c). Byte for byte Linux's formats.
 */
import { ENOENT } from '../lib/errno.js';
import { fput, getFile, type File } from '../fs/file.js';
import type { DmaBuf } from './dma-buf.js';
import { dmaBufList } from './dma-buf.js';

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
  for (const buf of [...dmaBufList()]) {
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

/** dma_buf_show_fdinfo(): the dma-buf's lines of /proc/<pid>/fdinfo/<fd> (count excludes procfs's own reference). */
export function dmaBufShowFdinfo(file: File): string {
  const dmabuf = file.privateData as DmaBuf;
  let s = `size:\t${dmabuf.size}\ncount:\t${dmabuf.file.refcount - 1}\nexp_name:\t${dmabuf.expName}\n`;
  if (dmabuf.name !== null) s += `name:\t${dmabuf.name}\n`;
  return s;
}

/** /sys/kernel/dmabuf/buffers: the directory names (inode numbers). */
export function dmaBufSysfsBuffers(): string[] {
  return dmaBufList().map((b) => String(b.ino));
}

/** /sys/kernel/dmabuf/buffers/<ino>/<attr>: the text, or -ENOENT. */
export function dmaBufSysfsRead(ino: number, attr: string): string | number {
  const buf = dmaBufList().find((b) => b.ino === ino);
  if (!buf) return -ENOENT;
  if (attr === 'exporter_name') return `${buf.expName}\n`;
  if (attr === 'size') return `${buf.size}\n`;
  return -ENOENT;
}


