/**
 * Path lookup and open (fs/namei.c, fs/open.c) over the registry of the
 * pseudo filesystems: every path is resolved in registry.ts, which drivers
 * fill at init, so the VFS knows no driver. What an open may do depends on
 * the node's filesystem: device nodes, debugfs and procfs files pass the
 * usual permission check (processes here are root, who may read and write
 * any regular file: CAP_DAC_OVERRIDE); sysfs attributes refuse a mode
 * their show/store cannot serve (-EACCES).
 */
import { EACCES, EEXIST, EINVAL, EISDIR, ENODEV, ENOENT, ENOTDIR, ENXIO, EOPNOTSUPP } from '../lib/errno.js';
import {
  O_ACCMODE, O_CLOEXEC, O_CREAT, O_DIRECT, O_DIRECTORY, O_DSYNC, O_EXCL, O_NOCTTY, O_PATH, O_RDONLY, O_TRUNC, O_WRONLY, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET, __O_SYNC, __O_TMPFILE,
} from '../../uapi/fcntl.js';
import { S_IRUGO, S_IWUGO } from '../../uapi/stat.js';
import { FMODE_OPENED, FMODE_PATH, File, Inode, fput, type FileOperations } from './file.js';
import { DirNode, FileNode, registryWalk, type Dentry, type LookupContext } from './registry.js';
import type { Task } from './task.js';


/** What an open of a node gets when the module owning it is going away (fops_get failing, per filesystem). */
const GONE: Record<string, number> = { devtmpfs: -ENODEV, debugfs: -ENXIO, sysfs: -ENODEV, proc: -ENOENT, rootfs: -ENOENT };

/**
 * A file over a generated text, made as a seq_file makes it (fs/seq_file.c,
 * Linux 6.12): not at open but at the first read, and again when a seek
 * moves the position (seq_lseek's traverse(): the text is shown anew, and
 * an error it meets — an fdinfo whose fd has been closed is ENOENT — resets
 * the position to 0 and is the seek's answer). A sysfs store, if any, takes
 * writes. procfs and debugfs texts seek SEEK_SET and SEEK_CUR only; a sysfs
 * attribute seeks as a file of its inode's size, a page (kernfs:
 * generic_file_llseek), and makes its text at the first read.
 */
function textFile(node: FileNode, flags: number, ctx: LookupContext): File {
  const sysfs = node.fs === 'sysfs';
  const show = node.show;
  let bytes: Uint8Array | null = null;
  const make = (text: string | number): number => {
    if (typeof text === 'number') return text;
    bytes = new TextEncoder().encode(text);
    return 0;
  };
  const fops: FileOperations = {
    async read(_file, length, pos): Promise<Uint8Array | number> {
      if (!bytes) {
        if (!show) return new Uint8Array(0);
        const err = make(await show(ctx));
        if (err) return err;
      }
      return bytes!.slice(pos, pos + length);
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
      if (!sysfs && pos !== file.fPos && show) {
        // traverse(): the text is shown again up to the new position.
        const text = show(ctx);
        if (text instanceof Promise) bytes = null; // an asynchronous show runs at the next read
        else {
          const err = make(text);
          if (err) {
            file.fPos = 0;
            bytes = null;
            return err;
          }
        }
      }
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
  return textFile(node, flags, { task });
}

/** An O_PATH file's operations: none (every call but fstat, fcntl's few, dup and close is EBADF for it). */
const pathFops: FileOperations = {};

/**
 * do_filp_open() (fs/namei.c, Linux 6.12: path_openat, do_open, may_open;
 * fs/open.c do_dentry_open): a new File for `path` opened with `flags`
 * (build_open_flags() already passed), or a negative errno, in Linux's
 * order: the lookup (ENOENT); __O_TMPFILE needs a directory (ENOTDIR; none
 * here can hold one: EOPNOTSUPP); O_PATH opens nothing (a file that only
 * names the path); O_CREAT|O_EXCL of what exists is EEXIST, O_CREAT of a
 * directory EISDIR; O_DIRECTORY of a non-directory ENOTDIR; a directory
 * opened for writing (or O_TRUNC) EISDIR; then the file's own open, and
 * O_DIRECT, which no file here can do (no FMODE_CAN_ODIRECT), is EINVAL
 * after it. The file keeps the flags without O_CREAT, O_EXCL, O_NOCTTY,
 * O_TRUNC and O_CLOEXEC; O_SYNC's __O_SYNC brings O_DSYNC.
 */
export async function vfsOpen(task: Task, path: string, flags: number): Promise<File | number> {
  const node = registryWalk(path, { task });
  if (typeof node === 'number') return node;
  const isDir = node instanceof DirNode;
  flags &= ~O_CLOEXEC;
  if (flags & __O_SYNC) flags |= O_DSYNC;
  if (flags & __O_TMPFILE) return isDir ? -EOPNOTSUPP : -ENOTDIR;
  if (flags & O_PATH) {
    if (flags & O_DIRECTORY && !isDir) return -ENOTDIR;
    const f = new File(node.inode(), node.name, flags, pathFops, null);
    f.fMode = FMODE_PATH | FMODE_OPENED;
    f.path = node.path();
    return f;
  }
  if (flags & O_CREAT) {
    if (flags & O_EXCL) return -EEXIST;
    if (isDir) return -EISDIR;
  }
  if (flags & O_DIRECTORY && !isDir) return -ENOTDIR;
  const fileFlags = flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC);
  if (isDir) {
    // may_open(): ACC_MODE() and O_TRUNC's MAY_WRITE
    if ((flags & O_ACCMODE) !== O_RDONLY || flags & O_TRUNC) return -EISDIR;
    if (flags & O_DIRECT) return -EINVAL;
    const dir = new File(node.inode(), node.name, fileFlags, dirFops, null);
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
  if (typeof opened === 'number') return opened;
  // The file is the node's: its inode (shared by every open) and its path (what /proc/<pid>/fd/<n> names).
  opened.inode = file.inode();
  opened.path = file.path();
  if (flags & O_DIRECT) {
    fput(opened);
    return -EINVAL;
  }
  opened.fFlags = (opened.fFlags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC)) | (fileFlags & O_DSYNC);
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
