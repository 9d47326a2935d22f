/**
 * sysfs (fs/sysfs, lib/kobject.c): directories (kobjects) and their
 * attributes, each a small text made by a show function when opened. An
 * attribute is opened for writing only if its mode allows writing and it
 * has a store, and for reading only if it is readable and has a show:
 * else -EACCES, even for root (kernfs's extra open permission check).
 */
import { EEXIST, EINVAL, kerr } from '../lib/errno.js';
import type { ModuleRef } from '../lib/module.js';
import { S_IFREG } from '../../uapi/stat.js';
import { DirNode, FileNode, registryAdd, registryRemove, sysDir, type Dentry, type DynamicDir, type ShowFn, type StoreFn } from './registry.js';

/** struct attribute with its show/store (struct kobj_attribute) */
export interface Attribute {
  name: string;
  /** permission bits: 0444 for a read-only attribute */
  mode: number;
  show?: ShowFn;
  store?: StoreFn;
  owner?: ModuleRef | null;
}

/** kernel_kobj: /sys/kernel */
export const kernelKobj = new DirNode('kernel', 'sysfs');
registryAdd(sysDir, kernelKobj);

/** kobject_create_and_add(name, parent): a directory under `parent` (/sys when null); throws -EEXIST. */
export function kobjectCreateAndAdd(name: string, parent: DirNode | null, owner: ModuleRef | null = null): DirNode {
  const dir = new DirNode(name, 'sysfs', null, owner);
  if (registryAdd(parent ?? sysDir, dir)) throw kerr(-EEXIST, `sysfs: cannot create duplicate filename '${dir.path()}'`);
  return dir;
}

/**
 * A directory whose entries are made when looked up (one per live object,
 * as the kobjects of /sys/kernel/dmabuf/buffers): throws -EEXIST.
 */
export function sysfsCreateDynamicDir(name: string, parent: DirNode | null, entries: DynamicDir, owner: ModuleRef | null = null): DirNode {
  const dir = new DirNode(name, 'sysfs', entries, owner);
  if (registryAdd(parent ?? sysDir, dir)) throw kerr(-EEXIST, `sysfs: cannot create duplicate filename '${dir.path()}'`);
  return dir;
}

/** An attribute's node, not linked anywhere (for the entries of a dynamic directory). */
export function sysfsAttrNode(attr: Attribute): FileNode {
  return new FileNode(attr.name, S_IFREG | (attr.mode & 0o777), 'sysfs', { show: attr.show, store: attr.store }, attr.owner ?? null);
}

/** A directory not linked anywhere holding `attrs` (an entry of a dynamic directory). */
export function sysfsGroupNode(name: string, attrs: Attribute[]): DirNode {
  const dir = new DirNode(name, 'sysfs');
  for (const a of attrs) dir.link(sysfsAttrNode(a));
  return dir;
}

/** sysfs_create_file(kobj, attr): 0, -EINVAL (no show and no store), -EEXIST. */
export function sysfsCreateFile(kobj: DirNode, attr: Attribute): number {
  if (!attr.show && !attr.store) return -EINVAL;
  return registryAdd(kobj, sysfsAttrNode(attr));
}

/** sysfs_remove_file() / kobject_put() of a directory: the node and what is under it go. */
export function sysfsRemove(node: Dentry): void {
  registryRemove(node);
}
