/**
 * struct vm_area_struct: one userspace mapping (include/linux/mm_types.h).
 * An exporter's mmap callback "inserts the pages" by handing the VMA a
 * zero-copy view of the bytes; the view is what mmap() returns.
 */
import { EINVAL } from '../lib/errno.js';
import { pr_warn } from '../lib/printk.js';
import { type Page, PAGE_SHIFT, PAGE_SIZE } from './page.js';

export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_PFNMAP = 0x400;
export const VM_IO = 0x4000;
export const VM_DONTEXPAND = 0x40000;
export const VM_DONTDUMP = 0x04000000;

/** is_cow_mapping(): a private mapping that may be written (MAP_PRIVATE): writes go to copies of the pages. */
export function isCowMapping(vmFlags: number): boolean {
  return (vmFlags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
}

/** struct vm_area_struct (the parts a driver sees) */
export class Vma {
  vmStart: number;
  vmEnd: number;
  /** offset into the file, in pages */
  vmPgoff: number;
  vmFlags: number;
  /** the file mapped (vma->vm_file); set by the mmap path */
  vmFile: unknown = null;
  /** vm_private_data */
  vmPrivateData: unknown = null;
  /** what the driver mapped: the bytes userspace sees */
  view: Uint8Array | null = null;
  /** called when the mapping goes (vm_ops->close) */
  close: (() => void) | null = null;

  constructor(vmStart: number, length: number, vmPgoff: number, vmFlags: number) {
    this.vmStart = vmStart;
    this.vmEnd = vmStart + Math.ceil(length / PAGE_SIZE) * PAGE_SIZE;
    this.vmPgoff = vmPgoff;
    this.vmFlags = vmFlags;
  }

  /** vma_pages() */
  pages(): number {
    return (this.vmEnd - this.vmStart) >> PAGE_SHIFT;
  }

  /** The mapping's length in bytes. */
  length(): number {
    return this.vmEnd - this.vmStart;
  }
}

/**
 * remap_pfn_range() / vm_insert_pages() of `pages` (the pages from
 * vm_pgoff on): the view covers the whole VMA. The pages must be
 * consecutive bytes of one backing store, since a JS view cannot stitch
 * two stores together; otherwise -EINVAL (with a kernel log line).
 */
export function vmaMapPages(vma: Vma, pages: readonly Page[], from = vma.vmPgoff): number {
  const n = vma.pages();
  if (pages.length - from < n) return -EINVAL;
  const first = pages[from];
  for (let i = 1; i < n; i++) {
    const p = pages[from + i];
    if (p.backing !== first.backing || p.offset !== first.offset + i * PAGE_SIZE) return notContiguous();
  }
  vma.view = first.backing.view(first.offset, n * PAGE_SIZE);
  return 0;
}

/** A run of consecutive pages: a scatterlist entry's page/offset/length. */
export interface PageRun {
  page: Page | null;
  offset: number;
  length: number;
}

/**
 * The same over runs of pages (a buffer's sg_table entries), from
 * vm_pgoff on, as system_heap_mmap() walks its table: checked a run at a
 * time, so the cost follows the number of runs, not the mapping's size.
 */
export function vmaMapRuns(vma: Vma, runs: readonly PageRun[]): number {
  let skip = vma.vmPgoff * PAGE_SIZE;
  let want = vma.length();
  let start: Page | null = null;
  let startOff = 0;
  let mapped = 0;
  for (let i = 0; i < runs.length; i++) {
    const sg = runs[i];
    if (!want) break;
    if (skip >= sg.length) {
      skip -= sg.length;
      continue;
    }
    const page = sg.page;
    if (!page) return -EINVAL;
    const off = page.offset + sg.offset + skip;
    const len = Math.min(sg.length - skip, want);
    skip = 0;
    if (!start) {
      start = page;
      startOff = off;
    } else if (page.backing !== start.backing || off !== startOff + mapped) {
      return notContiguous();
    }
    mapped += len;
    want -= len;
  }
  if (want || !start) return -EINVAL;
  vma.view = start.backing.view(startOff, mapped);
  return 0;
}

function notContiguous(): number {
  pr_warn(`mmap: pages of this buffer are not contiguous in one backing store; cannot map them as one view`);
  return -EINVAL;
}
