/**
 * The registry of the pseudo filesystems: the tree of nodes that drivers
 * and subsystems create at init (device nodes in devtmpfs, debugfs and
 * sysfs files, procfs entries), the dentries of this machine. Path lookup
 * and readdir walk it and nothing else, so the VFS knows no driver. A
 * directory may be dynamic: its entries are made when looked up (the
 * processes in /proc, the dma-bufs in /sys/kernel/dmabuf/buffers).
 */
import { EEXIST, ENOENT, ENOTDIR } from '../lib/errno.js';
import type { ModuleRef } from '../lib/module.js';
import { S_IFDIR, S_IFMT, S_IFREG } from '../../uapi/stat.js';
import { Inode, type File, type FileOperations } from './file.js';
import { debugfsSb, devtmpfsSb, procSb, rootfsSb, sysfsSb, type SuperBlock } from './super.js';
import type { Task } from './task.js';

/** The filesystem a node is in: it decides the rules of open (see vfs.ts). */
export type FsType = 'rootfs' | 'devtmpfs' | 'debugfs' | 'sysfs' | 'proc';

/** Who is looking: /proc/self and per-process entries depend on it. */
export interface LookupContext {
  task: Task;
}

/** An open of a registered file: the caller, its open flags (O_CLOEXEC removed) and the node. */
export interface OpenContext extends LookupContext {
  flags: number;
  node: FileNode;
}

/** A node's own open (a driver's open(2) entry): a new File, or a negative errno. */
export type OpenFn = (ctx: OpenContext) => File | number | Promise<File | number>;
/** A generated text file's content (seq_file show / sysfs show), or a negative errno. */
export type ShowFn = (ctx: LookupContext) => string | number | Promise<string | number>;
/** A sysfs attribute's store: bytes consumed, or a negative errno. */
export type StoreFn = (ctx: LookupContext, data: Uint8Array) => number;

/** The entries of a dynamic directory, made when asked for. */
export interface DynamicDir {
  /** the names (readdir) */
  list(ctx: LookupContext): string[];
  /** the node named `name`, or null (ENOENT) */
  lookup(name: string, ctx: LookupContext): Dentry | null;
}

/** Each filesystem's superblock. */
const SUPER: Record<FsType, SuperBlock> = { rootfs: rootfsSb, devtmpfs: devtmpfsSb, debugfs: debugfsSb, sysfs: sysfsSb, proc: procSb };

/** BOGO_DIRENT_SIZE: what each entry adds to a tmpfs (devtmpfs) directory's size, "." and ".." included. */
const BOGO_DIRENT_SIZE = 20;

/** struct dentry (with its inode's mode): a name, a mode (S_IF* | permissions), a filesystem, an owner module. */
export abstract class Dentry {
  parent: DirNode | null = null;
  /** i_rdev of a device node (new_encode_dev) */
  rdev = 0;
  private ino: Inode | null = null;
  constructor(
    readonly name: string,
    readonly mode: number,
    readonly fs: FsType,
    /** the module whose code serves the node (null: built in); an open holds a reference */
    readonly owner: ModuleRef | null,
    /** the driver's data (i_private; a file made by fops gets it as privateData) */
    readonly data: unknown,
  ) {}

  /**
   * The node's inode, made on first use: what every open of the node shares
   * (its number, mode and device number, and the filesystem's device). A
   * sysfs attribute's size is a page (kernfs); a directory's links, and for
   * a devtmpfs directory its size, follow its entries.
   */
  inode(): Inode {
    if (this.ino) return this.ino;
    const inode = new Inode(undefined, SUPER[this.fs]);
    inode.mode = this.mode;
    inode.rdev = this.rdev;
    if (this.fs === 'sysfs' && (this.mode & S_IFMT) === S_IFREG) inode.size = 4096;
    if (this instanceof DirNode) {
      const dir = this;
      inode.getattr = () => {
        const entries = dir.entries();
        const subdirs = entries.filter((e) => e instanceof DirNode).length;
        return { nlink: 2 + subdirs, size: dir.fs === 'devtmpfs' ? (2 + entries.length) * BOGO_DIRENT_SIZE : 0 };
      };
    }
    return (this.ino = inode);
  }

  /** The absolute path (for messages, and what d_path gives a file opened through the node). */
  path(): string {
    return this.parent ? `${this.parent.parent ? this.parent.path() : ''}/${this.name}` : '/';
  }
}

/** A directory dentry (S_IFDIR): static entries, and possibly dynamic ones. */
export class DirNode extends Dentry {
  private readonly children = new Map<string, Dentry>();
  constructor(name: string, fs: FsType, public dynamic: DynamicDir | null = null, owner: ModuleRef | null = null, mode = S_IFDIR | 0o755) {
    super(name, mode, fs, owner, null);
  }

  /** d_lookup(): a static entry first, then the dynamic ones (which get this directory as parent, for their path). */
  lookup(name: string, ctx: LookupContext): Dentry | null {
    const found = this.children.get(name);
    if (found) return found;
    const made = this.dynamic?.lookup(name, ctx) ?? null;
    if (made && !made.parent) made.parent = this;
    return made;
  }

  /** readdir(): static entries in creation order, then the dynamic ones. */
  list(ctx: LookupContext): string[] {
    const names = [...this.children.keys()];
    return this.dynamic ? names.concat(this.dynamic.list(ctx)) : names;
  }

  /** A static entry (no dynamic lookup). */
  child(name: string): Dentry | null {
    return this.children.get(name) ?? null;
  }

  /** Static entries. */
  entries(): Dentry[] {
    return [...this.children.values()];
  }

  /** @internal link a new node: 0 or -EEXIST */
  link(node: Dentry): number {
    if (this.children.has(node.name)) return -EEXIST;
    this.children.set(node.name, node);
    node.parent = this;
    return 0;
  }

  /** @internal unlink a node */
  unlink(node: Dentry): void {
    if (this.children.get(node.name) === node) this.children.delete(node.name);
    node.parent = null;
  }
}

/** How a registered file is opened: a driver's open, file operations, or a generated text. */
export interface FileNodeOps {
  /** the driver makes the File (misc devices with an open of their own, sw_sync) */
  open?: OpenFn;
  /** the VFS makes the File with these operations (and calls their .open) */
  fops?: FileOperations;
  /** a text generated at open (debugfs show files, sysfs attributes, procfs entries) */
  show?: ShowFn;
  /** a sysfs attribute's store */
  store?: StoreFn;
}

/** A file dentry: a device node (S_IFCHR), a debugfs/sysfs/procfs file (S_IFREG). */
export class FileNode extends Dentry {
  readonly open: OpenFn | undefined;
  readonly fops: FileOperations | undefined;
  readonly show: ShowFn | undefined;
  readonly store: StoreFn | undefined;
  constructor(name: string, mode: number, fs: FsType, ops: FileNodeOps, owner: ModuleRef | null = null, data: unknown = null) {
    super(name, mode, fs, owner, data);
    this.open = ops.open;
    this.fops = ops.fops;
    this.show = ops.show;
    this.store = ops.store;
  }
}

/** The root dentry ("/"), with the mount points of devtmpfs, sysfs (with debugfs inside) and procfs. */
export const rootDir = new DirNode('', 'rootfs');
export const devDir = new DirNode('dev', 'devtmpfs');
export const sysDir = new DirNode('sys', 'sysfs');
/** /proc: its entries (the processes) are dynamic, set by procfs at init. */
export const procDir = new DirNode('proc', 'proc');
rootDir.link(devDir);
rootDir.link(sysDir);
rootDir.link(procDir);

/** Path components of an absolute path, or -ENOENT for a relative or empty one ("." and ".." resolved). */
function components(path: string): string[] | number {
  if (!path.startsWith('/')) return -ENOENT;
  const out: string[] = [];
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') out.pop();
    else out.push(c);
  }
  return out;
}

/**
 * Path walk (link_path_walk): the node at `path`, or -ENOENT, or -ENOTDIR
 * when a component before the last (or a path ending in '/') is not a
 * directory.
 */
export function registryWalk(path: string, ctx: LookupContext): Dentry | number {
  const parts = components(path);
  if (typeof parts === 'number') return parts;
  let node: Dentry = rootDir;
  for (const name of parts) {
    if (!(node instanceof DirNode)) return -ENOTDIR;
    const next = node.lookup(name, ctx);
    if (!next) return -ENOENT;
    node = next;
  }
  if (path.endsWith('/') && !(node instanceof DirNode)) return -ENOTDIR;
  return node;
}

/**
 * The directory at `path` under `base`, made (with its parents) in
 * filesystem `fs` if missing. -ENOTDIR if a file is in the way.
 */
export function registryMkdirs(base: DirNode, path: string, fs: FsType): DirNode | number {
  let dir = base;
  for (const name of path.split('/').filter((c) => c !== '')) {
    const next = dir.child(name);
    if (next && !(next instanceof DirNode)) return -ENOTDIR;
    if (next) {
      dir = next as DirNode;
      continue;
    }
    const made = new DirNode(name, fs);
    dir.link(made);
    dir = made;
  }
  return dir;
}

/** d_add(): link `node` into `parent`: 0, or -EEXIST for a name in use. */
export function registryAdd(parent: DirNode, node: Dentry): number {
  return parent.link(node);
}

/** d_delete(): unlink `node` (and so everything under it). */
export function registryRemove(node: Dentry): void {
  node.parent?.unlink(node);
}

/** Unlink every static node `owner` registered (its module going away); the count removed. */
export function registryRemoveOwner(owner: ModuleRef, dir: DirNode = rootDir): number {
  let n = 0;
  for (const node of dir.entries()) {
    if (node.owner === owner) {
      registryRemove(node);
      n++;
    } else if (node instanceof DirNode) {
      n += registryRemoveOwner(owner, node);
    }
  }
  return n;
}
