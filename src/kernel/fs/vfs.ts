/**
 * Path lookup for the files this machine has: the device nodes
 * (/dev/dma_heap/*, /dev/udmabuf, /dev/dri/card0), sw_sync in debugfs, and
 * the text files of debugfs, sysfs and procfs, generated when opened.
 */
import { EACCES, EINVAL, ENOENT } from '../lib/errno.js';
import { tasks, type Task } from '../lib/task.js';
import { O_ACCMODE, O_CLOEXEC, O_RDONLY } from '../../uapi/fcntl.js';
import { dmaHeapFind, dmaHeapOpen, dmaHeaps } from '../heaps/dma-heap.js';
import { udmabufOpen } from '../drivers/udmabuf.js';
import { drmOpen } from '../drivers/drm-file.js';
import { swSyncOpen, syncInfoDebugfsShow } from '../sync/sw-sync.js';
import { dmaBufDebugShow, dmaBufSysfsBuffers, dmaBufSysfsRead } from '../buf/debug.js';
import { File, Inode, type FileOperations } from './file.js';
import { devKmsgOpen } from './kmsg.js';

/** Mount ids shown in fdinfo (anon_inodefs, the dmabuf pseudo filesystem, devtmpfs, debugfs/sysfs/proc, tmpfs) */
export const MNT_ID: Record<string, number> = { dmabuf: 9, anon: 15, dev: 22, pseudo: 24, shmem: 1 };

/** The text of a generated file, or a negative errno. */
async function textOf(task: Task, path: string): Promise<string | number> {
  if (path === '/sys/kernel/debug/dma_buf/bufinfo') return dmaBufDebugShow(task.signal);
  if (path === '/sys/kernel/debug/sync/info') return syncInfoDebugfsShow();
  let m = /^\/sys\/kernel\/dmabuf\/buffers\/(\d+)\/(exporter_name|size)$/.exec(path);
  if (m) return dmaBufSysfsRead(Number(m[1]), m[2]);
  m = /^\/proc\/(self|\d+)\/fdinfo\/(\d+)$/.exec(path);
  if (m) {
    const owner = m[1] === 'self' ? task : tasks.get(Number(m[1]));
    if (!owner) return -ENOENT;
    return fdinfo(owner, Number(m[2]));
  }
  return -ENOENT;
}

/** /proc/<pid>/fdinfo/<fd>: the generic lines, then the file's own (show_fdinfo). */
export function fdinfo(owner: Task, fd: number): string | number {
  const file = owner.files.lookup(fd);
  if (!file) return -ENOENT;
  let flags = file.fFlags;
  if (owner.files.isCloexec(fd)) flags |= O_CLOEXEC;
  const mnt = file.name === 'dmabuf' ? MNT_ID.dmabuf : file.name.startsWith('memfd:') ? MNT_ID.shmem : MNT_ID.anon;
  // procfs holds a reference while it shows the file (show_fdinfo excludes it from dma-buf's count).
  file.refcount++;
  const own = file.fOp.showFdinfo?.(file) ?? '';
  file.refcount--;
  return `pos:\t${file.fPos}\nflags:\t0${flags.toString(8)}\nmnt_id:\t${mnt}\nino:\t${file.inode.ino}\n${own}`;
}

/** A seq_file-like read-only file over a text generated at open. */
function textFile(name: string, text: string): File {
  const bytes = new TextEncoder().encode(text);
  const fops: FileOperations = {
    read(file, length, pos): Uint8Array {
      return bytes.slice(pos, pos + length);
    },
    llseek(file, offset, whence): number {
      const base = whence === 0 ? 0 : whence === 1 ? file.fPos : whence === 2 ? bytes.length : NaN;
      if (Number.isNaN(base) || base + offset < 0) return -EINVAL;
      file.fPos = base + offset;
      return file.fPos;
    },
  };
  return new File(new Inode(), name, O_RDONLY, fops, null);
}

/** The files in a directory of the pseudo filesystems (for listings). */
export function vfsList(dir: string): string[] | number {
  if (dir === '/dev/dma_heap') return dmaHeaps().map((h) => h.name);
  if (dir === '/sys/kernel/dmabuf/buffers') return dmaBufSysfsBuffers();
  return -ENOENT;
}

/** do_sys_open(): a new File for `path`, or a negative errno. */
export async function vfsOpen(task: Task, path: string, flags: number): Promise<File | number> {
  const heap = /^\/dev\/dma_heap\/(.+)$/.exec(path);
  // Only registered heaps have a device node: another name is not found by path lookup.
  if (heap) return dmaHeapFind(heap[1]) ? dmaHeapOpen(heap[1], flags & ~O_CLOEXEC) : -ENOENT;
  if (path === '/dev/udmabuf') return udmabufOpen(flags & ~O_CLOEXEC);
  if (path === '/dev/null') return devNullOpen(flags & ~O_CLOEXEC);
  if (path === '/dev/kmsg') return devKmsgOpen(flags & ~O_CLOEXEC);
  if (path === '/dev/dri/card0') return drmOpen(flags & ~O_CLOEXEC);
  if (path === '/sys/kernel/debug/sync/sw_sync' || path === '/sys/kernel/debug/sw_sync') return swSyncOpen(task, flags & ~O_CLOEXEC);
  const text = await textOf(task, path);
  if (typeof text === 'number') return text;
  if ((flags & O_ACCMODE) !== O_RDONLY) return -EACCES;
  return textFile(path.split('/').pop()!, text);
}

/** Read a generated text file in one go (procfs/debugfs/sysfs), or a negative errno. */
export function vfsReadText(task: Task, path: string): Promise<string | number> {
  return textOf(task, path);
}

/** /dev/null: reads end at once, writes vanish (what a new process has on fds 0, 1 and 2 here). */
const nullFops: FileOperations = {
  read: () => new Uint8Array(0),
  write: (_f, data) => data.length,
  llseek: () => 0,
};

export function devNullOpen(flags: number): File {
  return new File(new Inode(), 'null', flags, nullFops, null);
}
