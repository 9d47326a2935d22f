/**
 * What JavaScript cannot enforce, detected after the fact: a view mmap()
 * returned is a plain TypedArray, so a write through a PROT_READ mapping,
 * or through a view kept after munmap(), lands in the buffer where Linux
 * would fault the process. Under this project's own switch
 * kconfig.DMABUF_CHECK_USER_MAPPINGS, each read-only mapping and each
 * unmapped view is watched by a checksum of its bytes; at the process's
 * next munmap, DMA_BUF_IOCTL_SYNC end or exit, a changed checksum that no
 * writable mapping of the same memory can explain ends the process with
 * SIGSEGV and a kernel log line in the form of Linux's show_signal_msg()
 * (arch/x86/mm/fault.c). A user's bug is a signal, never a kernel WARN.
 * It cannot catch a write that another writer's mapping could have made.
 */
import { kconfig } from '../lib/kconfig.js';
import { pr_info } from '../lib/printk.js';
import { VM_WRITE, type Vma } from '../mm/vma.js';
import { SIGSEGV } from '../../uapi/signal.js';
import { sendSignal } from './signal.js';
import { tasks, type Task } from './task.js';

/** The page-fault error code bits (arch/x86/include/asm/trap_pf.h): page present, write, from user mode. */
const X86_PF_PROT = 1;
const X86_PF_WRITE = 2;
const X86_PF_USER = 4;

interface Watch {
  /** the bytes the process may not write */
  view: Uint8Array;
  /** the address the mapping had */
  addr: number;
  sum: number;
  /** a read-only mapping (the page is there: PROT) or one unmapped (no page) */
  kind: 'readonly' | 'unmapped';
  vma: Vma | null;
}

const watches = new Map<Task['sig'], Watch[]>();

/** FNV-1a over the bytes (a debug switch: the cost of reading them is accepted). */
function checksum(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}

function watchesOf(task: Task): Watch[] {
  let w = watches.get(task.sig);
  if (!w) watches.set(task.sig, (w = []));
  return w;
}

/** mmap() made `vma`: watch it if it is read-only. */
export function userMappingMapped(task: Task, vma: Vma): void {
  if (!kconfig.DMABUF_CHECK_USER_MAPPINGS || !vma.view || vma.vmFlags & VM_WRITE) return;
  watchesOf(task).push({ view: vma.view, addr: vma.vmStart, sum: checksum(vma.view), kind: 'readonly', vma });
}

/** munmap() of `vma`: from now on its view is the process's no more. Returns false if the process was killed. */
export function userMappingUnmapped(task: Task, vma: Vma): boolean {
  if (!kconfig.DMABUF_CHECK_USER_MAPPINGS) return true;
  if (!userMappingsCheck(task)) return false;
  const list = watchesOf(task);
  const i = list.findIndex((w) => w.vma === vma);
  if (i >= 0) list.splice(i, 1);
  if (vma.view) list.push({ view: vma.view, addr: vma.vmStart, sum: checksum(vma.view), kind: 'unmapped', vma: null });
  return true;
}

/** Whether a writable mapping of any process covers some of `view`'s bytes (a legitimate writer). */
function writableElsewhere(view: Uint8Array): boolean {
  const start = view.byteOffset;
  const end = start + view.byteLength;
  for (const t of tasks.values()) {
    for (const v of t.mm.vmas.values()) {
      if (!(v.vmFlags & VM_WRITE) || !v.view || v.view.buffer !== view.buffer) continue;
      if (v.view.byteOffset < end && v.view.byteOffset + v.view.byteLength > start) return true;
    }
  }
  return false;
}

/**
 * Check the process's watched views (at munmap, DMA_BUF_IOCTL_SYNC end and
 * exit): true if none was written, else the process gets SIGSEGV and false.
 */
export function userMappingsCheck(task: Task): boolean {
  if (!kconfig.DMABUF_CHECK_USER_MAPPINGS) return true;
  const list = watches.get(task.sig);
  if (!list?.length) return true;
  for (const w of list) {
    const sum = checksum(w.view);
    if (sum === w.sum) continue;
    if (writableElsewhere(w.view)) {
      w.sum = sum; // another mapping may have written it: no fault can be told
      continue;
    }
    const error = X86_PF_USER | X86_PF_WRITE | (w.kind === 'readonly' ? X86_PF_PROT : 0);
    pr_info(`${task.comm}[${task.pid}]: segfault at ${w.addr.toString(16)} ip 0000000000000000 sp 0000000000000000 error ${error} in dma-buf mapping (${w.kind === 'readonly' ? 'written through PROT_READ' : 'written after munmap'}; detected by DMABUF_CHECK_USER_MAPPINGS)`);
    watches.delete(task.sig);
    sendSignal(task, SIGSEGV);
    return false;
  }
  return true;
}

/** The process is gone: forget its watches (after the exit-time check). */
export function userMappingsForget(task: Task): void {
  watches.delete(task.sig);
}
