/**
 * procfs (fs/proc): /proc/<pid> for every live task and /proc/self for the
 * caller, each with fdinfo/<fd> (fs/proc/fd.c), plus the entries others
 * create (proc_mkdir, proc_create_single). Names of processes and fds are
 * canonical decimals: "007" is not found (name_to_int).
 */
import { EEXIST, ENOENT, kerr } from '../lib/errno.js';
import type { ModuleRef } from '../lib/module.js';
import { O_CLOEXEC } from '../../uapi/fcntl.js';
import { S_IFREG } from '../../uapi/stat.js';
import { DirNode, FileNode, procDir, registryAdd, registryRemove, type Dentry, type ShowFn } from './registry.js';
import { tasks, type Task } from './task.js';

/** /proc/<pid>/fdinfo/<fd>: the generic lines, then the file's own (show_fdinfo). */
export function fdinfo(owner: Task, fd: number): string | number {
  const file = owner.files.lookup(fd);
  if (!file) return -ENOENT;
  let flags = file.fFlags;
  if (owner.files.isCloexec(fd)) flags |= O_CLOEXEC;
  // the id of the mount the file is on (its filesystem's: super.ts)
  const mnt = file.inode.sb.mntId;
  // procfs holds a reference while it shows the file (show_fdinfo excludes it from dma-buf's count).
  file.refcount++;
  const own = file.fOp.showFdinfo?.(file) ?? '';
  file.refcount--;
  return `pos:\t${file.fPos}\nflags:\t0${flags.toString(8)}\nmnt_id:\t${mnt}\nino:\t${file.inode.ino}\n${own}`;
}

/** name_to_int(): a canonical decimal (no sign, no leading zero), or -1. */
function nameToInt(name: string): number {
  if (!/^(0|[1-9]\d{0,9})$/.test(name)) return -1;
  const n = Number(name);
  return n <= 0xffffffff ? n : -1;
}

/** /proc/<pid>/fdinfo: one entry per open descriptor of the task. */
function fdinfoDir(task: Task): DirNode {
  return new DirNode('fdinfo', 'proc', {
    list: () => task.files.openFds().map(String),
    lookup: (name) => {
      const fd = nameToInt(name);
      if (fd < 0 || !task.files.lookup(fd)) return null;
      return new FileNode(name, S_IFREG | 0o444, 'proc', { show: () => fdinfo(task, fd) });
    },
  });
}

/** /proc/<pid> of a task. */
function pidDir(task: Task, name: string): DirNode {
  const dir = new DirNode(name, 'proc', null, null, 0o040555);
  dir.link(fdinfoDir(task));
  return dir;
}

/** proc_root_init(): /proc lists the live tasks and "self". */
export function procRootInit(): void {
  procDir.dynamic = {
    list: () => ['self', ...[...tasks.keys()].map(String)],
    lookup: (name, ctx) => {
      if (name === 'self') return pidDir(ctx.task, String(ctx.task.pid));
      const task = tasks.get(nameToInt(name));
      return task ? pidDir(task, name) : null;
    },
  };
}

/** proc_mkdir(name, parent): a directory under `parent` (/proc when null); throws -EEXIST. */
export function procMkdir(name: string, parent: DirNode | null, owner: ModuleRef | null = null): DirNode {
  const dir = new DirNode(name, 'proc', null, owner, 0o040555);
  if (registryAdd(parent ?? procDir, dir)) throw kerr(-EEXIST, `proc_dir_entry '${name}' already registered`);
  return dir;
}

/** proc_create_single(name, mode, parent, show): a text file; throws -EEXIST. */
export function procCreateSingle(name: string, mode: number, parent: DirNode | null, show: ShowFn, owner: ModuleRef | null = null): FileNode {
  const node = new FileNode(name, S_IFREG | (mode & 0o777), 'proc', { show }, owner);
  if (registryAdd(parent ?? procDir, node)) throw kerr(-EEXIST, `proc_dir_entry '${name}' already registered`);
  return node;
}

/** proc_remove(): an entry, or a directory and everything in it. */
export function procRemove(node: Dentry): void {
  registryRemove(node);
}
