/**
 * Path lookup and open (fs/namei.c, fs/open.c) over the registry of the
 * pseudo filesystems: every path is resolved in registry.ts, which drivers
 * fill at init, so the VFS knows no driver. What an open may do depends on
 * the node's filesystem: device nodes, debugfs and procfs files pass the
 * usual permission check (processes here are root, who may read and write
 * any regular file: CAP_DAC_OVERRIDE); sysfs attributes refuse a mode
 * their show/store cannot serve (-EACCES).
 */
import { EACCES, EINVAL, EISDIR, ENODEV, ENOENT, ENOTDIR, ENXIO } from '../lib/errno.js';
import { O_ACCMODE, O_CLOEXEC, O_RDONLY, O_WRONLY, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET } from '../../uapi/fcntl.js';
import { S_IRUGO, S_IWUGO } from '../../uapi/stat.js';
import { FMODE_OPENED, File, Inode, fput, type FileOperations } from './file.js';
import { DirNode, FileNode, registryWalk, type Dentry, type LookupContext } from './registry.js';
import type { Task } from './task.js';


/** What an open of a node gets when the module owning it is going away (fops_get failing, per filesystem). */
const GONE: Record<string, number> = { devtmpfs: -ENODEV, debugfs: -ENXIO, sysfs: -ENODEV, proc: -ENOENT, rootfs: -ENOENT };

/**
 * A file over a text generated at open; a sysfs store, if any, takes
 * writes. procfs and debugfs texts are seq_files (seq_lseek: SEEK_SET and
 * SEEK_CUR only); a sysfs attribute seeks as a file of its inode's size, a
 * page (kernfs: generic_file_llseek).
 */
function textFile(node: FileNode, flags: number, text: string, ctx: LookupContext): File {
  const bytes = new TextEncoder().encode(text);
  const sysfs = node.fs === 'sysfs';
  const fops: FileOperations = {
    read(_file, length, pos): Uint8Array {
      return bytes.slice(pos, pos + length);
    },
    llseek(file, offset, whence): number {
      const size = file.inode.size;
      let pos: number;
      if (whence === SEEK_SET) pos = offset;
      else if (whence === SEEK_CUR) pos = file.fPos + offset;
      else if (sysfs && whence === SEEK_END) pos = size + offset;
      else if (sysfs && (whence === SEEK_DATA || whence === SEEK_HOLE)) {
        if (offset < 0 || offset >= size) return -ENXIO;
        pos = whence === SEEK_DATA ? offset : size;
      } else return -EINVAL;
      if (pos < 0) return -EINVAL;
      file.fPos = pos;
      return pos;
    },
  };
  const store = node.store;
  if (store) fops.write = (_file, data) => store(ctx, data);
  return new File(new Inode(), node.name, flags, fops, node.data);
}

/** A directory opened for reading (its entries come from readdir; read(2) is -EISDIR). */
const dirFops: FileOperations = {
  read: () => -EISDIR,
  llseek(file, offset, whence): number {
    // dcache_dir_lseek(): SEEK_SET and SEEK_CUR only.
    const base = whence === SEEK_SET ? 0 : whence === SEEK_CUR ? file.fPos : NaN;
    if (Number.isNaN(base) || base + offset < 0) return -EINVAL;
    file.fPos = base + offset;
    return file.fPos;
  },
};

/** May this open go ahead? 0 or -EACCES (sysfs: the attribute must serve the access mode). */
function mayOpen(node: FileNode, flags: number): number {
  if (node.fs !== 'sysfs') return 0;
  const acc = flags & O_ACCMODE;
  if (acc !== O_RDONLY && (!(node.mode & S_IWUGO) || !node.store)) return -EACCES;
  if (acc !== O_WRONLY && (!(node.mode & S_IRUGO) || !node.show)) return -EACCES;
  return 0;
}

/** Open a registered file, the owner's reference already held: the File, or a negative errno. */
async function openNode(node: FileNode, task: Task, flags: number): Promise<File | number> {
  if (node.open) return node.open({ task, flags, node });
  if (node.fops) {
    const inode = node.inode();
    inode.private = node.data;
    const file = new File(inode, node.name, flags, node.fops, node.data);
    if (!node.fops.open) return file;
    // Not opened until .open succeeds: a failed open releases nothing.
    file.fMode &= ~FMODE_OPENED;
    const ret = await node.fops.open(inode, file);
    if (ret < 0) {
      fput(file);
      return ret;
    }
    file.fMode |= FMODE_OPENED;
    return file;
  }
  if (!node.show && !node.store) return -ENXIO;
  // The text is made for a reader only (seq_file makes it on the first read; here at open).
  const ctx = { task };
  const text = node.show && (flags & O_ACCMODE) !== O_WRONLY ? await node.show(ctx) : '';
  return typeof text === 'number' ? text : textFile(node, flags, text, ctx);
}

/** do_sys_open(): a new File for `path`, or a negative errno. */
export async function vfsOpen(task: Task, path: string, flags: number): Promise<File | number> {
  const node = registryWalk(path, { task });
  if (typeof node === 'number') return node;
  flags &= ~O_CLOEXEC;
  if (node instanceof DirNode) {
    if ((flags & O_ACCMODE) !== O_RDONLY) return -EISDIR;
    const dir = new File(node.inode(), node.name, flags, dirFops, null);
    dir.path = node.path();
    return dir;
  }
  const file = node as FileNode;
  const perm = mayOpen(file, flags);
  if (perm) return perm;
  // fops_get(): the owner stays loaded while the open runs, and then while the file is open.
  const owner = file.owner;
  if (owner && !owner.tryGet()) return GONE[file.fs];
  let opened: File | number;
  try {
    opened = await openNode(file, task, flags);
  } catch (e) {
    owner?.put();
    throw e;
  }
  if (owner) {
    if (typeof opened === 'number' || opened.owner) owner.put();
    else opened.owner = owner;
  }
  if (typeof opened !== 'number') {
    // The file is the node's: its inode (shared by every open) and its path (what /proc/<pid>/fd/<n> names).
    opened.inode = file.inode();
    opened.path = file.path();
  }
  return opened;
}

/** Read a generated text file in one go (procfs/debugfs/sysfs), or a negative errno. */
export async function vfsReadText(task: Task, path: string): Promise<string | number> {
  const node: Dentry | number = registryWalk(path, { task });
  if (typeof node === 'number') return node;
  if (node instanceof DirNode) return -EISDIR;
  const file = node as FileNode;
  if (!file.show) return -EINVAL;
  const owner = file.owner;
  if (owner && !owner.tryGet()) return GONE[file.fs];
  try {
    return await file.show({ task });
  } finally {
    owner?.put();
  }
}

/** getdents() of a directory: the names, or -ENOENT, -ENOTDIR. */
export function vfsList(task: Task, path: string): string[] | number {
  const node = registryWalk(path, { task });
  if (typeof node === 'number') return node;
  if (!(node instanceof DirNode)) return -ENOTDIR;
  return node.list({ task });
}
