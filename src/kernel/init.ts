/**
 * Booting the kernel (init/main.c): start_kernel's early setup (memory,
 * fork_init, proc_root_init), then do_initcalls(): every subsystem's and
 * driver's init, by level as Linux runs them (core, fs, subsys, device
 * (module_init), late) and within a level in link order (drivers/Makefile:
 * gpu/ before dma-buf/; drivers/dma-buf/Makefile: the heaps, sw_sync,
 * udmabuf). Each init registers its own device nodes, debugfs/sysfs/procfs
 * files and counters; nothing else in the kernel names them.
 */
import { pr_err, pr_info } from './lib/printk.js';
import { taintInit } from './lib/bug.js';
import { EBUSY, errname, KernelError } from './lib/errno.js';
import { kconfig } from './lib/kconfig.js';
import { memInit, pageAllocInit, type MemoryConfig } from './mm/page-alloc.js';
import { forkInit } from './fs/task.js';
import { waitQueueStatsInit } from './fs/file.js';
import { procRootInit } from './fs/procfs.js';
import { chrDevInit } from './fs/mem.js';
import { procModulesInit } from './module-loader.js';
import { fdPassingInit } from './fs/syscalls.js';
import { dmaFenceInit } from './fence/dma-fence.js';
import { syncDebugfsInit } from './sync/sw-sync.js';
import { dmaBufInit } from './buf/debug.js';
import { systemHeapCreate } from './heaps/system-heap.js';
import { cmaHeapCreate } from './heaps/cma-heap.js';
import { udmabufDevInit } from './drivers/udmabuf.js';
import { vgemInit } from './drivers/drm-file.js';

/** The initcall levels, in the order do_initcalls() runs them (include/linux/init.h). */
export const INITCALL_LEVELS = ['pure', 'core', 'postcore', 'arch', 'subsys', 'fs', 'rootfs', 'device', 'late'] as const;
export type InitcallLevel = (typeof INITCALL_LEVELS)[number];

/** One initcall: its Linux name, its level, and the function (0 or a negative errno; a throw counts as one). */
export interface Initcall {
  name: string;
  level: InitcallLevel;
  fn: () => number | void;
}

/** The kernel's initcalls, each level's in link order. */
export const initcalls: readonly Initcall[] = [
  // Not in Linux: the kernel's counters (Machine.stats()) of the core code.
  { name: 'taint_init', level: 'core', fn: taintInit },
  { name: 'dma_fence_init', level: 'core', fn: dmaFenceInit },
  { name: 'wait_queue_stats_init', level: 'core', fn: waitQueueStatsInit },
  { name: 'dma_buf_init', level: 'subsys', fn: dmaBufInit },
  { name: 'chr_dev_init', level: 'fs', fn: chrDevInit },
  { name: 'proc_modules_init', level: 'fs', fn: procModulesInit },
  // SCM_RIGHTS passing is af_unix's (af_unix_init is an fs_initcall).
  { name: 'af_unix_init', level: 'fs', fn: fdPassingInit },
  { name: 'vgem_init', level: 'device', fn: vgemInit },
  { name: 'system_heap_create', level: 'device', fn: () => void systemHeapCreate() },
  { name: 'add_default_cma_heap', level: 'device', fn: () => void cmaHeapCreate() },
  { name: 'udmabuf_dev_init', level: 'device', fn: udmabufDevInit },
  // sw_sync.o and sync_debug.o are built only with CONFIG_SW_SYNC.
  { name: 'sync_debugfs_init', level: 'late', fn: () => (kconfig.SW_SYNC ? syncDebugfsInit() : undefined) },
];

/** do_one_initcall(): a failure is logged and boot goes on, as in Linux. */
function doOneInitcall(call: Initcall): void {
  let ret: number | void;
  try {
    ret = call.fn();
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
    ret = -e.errno;
  }
  if (typeof ret === 'number' && ret < 0) pr_err(`initcall ${call.name} failed: ${errname(ret) ?? ret}`);
}

/** do_initcalls(): every initcall, level by level. */
export function doInitcalls(calls: readonly Initcall[] = initcalls): void {
  for (const level of INITCALL_LEVELS) for (const call of calls) if (call.level === level) doOneInitcall(call);
}

export interface StartKernelOptions {
  /** build-time switches, set before anything they affect exists */
  kconfig?: Partial<typeof kconfig>;
  /** the machine's memory (zones, the CMA area) */
  memory?: MemoryConfig;
}

let started = false;

/** start_kernel(): memory, the early subsystems, then the initcalls. Once per kernel (a second call is -EBUSY). */
export function startKernel(opts: StartKernelOptions = {}): number {
  if (started) return -EBUSY;
  started = true;
  Object.assign(kconfig, opts.kconfig ?? {});
  memInit(opts.memory ?? {});
  pageAllocInit();
  forkInit();
  procRootInit();
  doInitcalls();
  pr_info('dmabuf: kernel booted');
  return 0;
}
