/**
 * What the kernel under test has: the programs ask (env.need('swSync')) and
 * a program that needs something missing is reported as skipped, by name.
 * The emulator has everything; a comparison runs both backends with the
 * Linux kernel's features, so both skip the same programs, and boots the
 * emulator configured as that kernel is (emulatorBootOptions).
 */
import type { ProcessLike } from '../../src/machine/process-api.js';
import type { BootOptions } from '../../src/index.js';
import * as u from '../../src/uapi/index.js';
import { Skip } from './recorder.js';

/** The features a program may need. */
export interface Features {
  /** <debugfs>/sync/sw_sync (CONFIG_SW_SYNC) */
  swSync: boolean;
  /** the CMA heap's node name under /dev/dma_heap, or null (CONFIG_DMABUF_HEAPS_CMA and a default CMA area) */
  cmaHeap: string | null;
  /** bytes of the CMA area (CmaTotal of /proc/meminfo; 0 without CONFIG_CMA) */
  cmaBytes: number;
  /** /sys/kernel/dmabuf/buffers (CONFIG_DMABUF_SYSFS_STATS) */
  sysfsStats: boolean;
  /** /dev/udmabuf */
  udmabuf: boolean;
  /** vgem's primary and render nodes, or null */
  vgemCard: string | null;
  vgemRender: string | null;
  /** the name of the thread the programs run on (sw_sync names a timeline after it) */
  comm: string;
}

export interface Env extends Readonly<Features> {
  /** Skip the program unless the kernel has `feature` (thrown: the runner reports the program as skipped, with the reason). */
  need(feature: 'swSync' | 'cmaHeap' | 'sysfsStats' | 'udmabuf' | 'vgem'): void;
}

const WHY: Record<string, string> = {
  swSync: 'needs sw_sync (CONFIG_SW_SYNC): this kernel has no /sys/kernel/debug/sync/sw_sync',
  cmaHeap: 'needs the CMA heap (CONFIG_DMABUF_HEAPS_CMA with a CMA area)',
  sysfsStats: 'needs the dma-buf sysfs stats (CONFIG_DMABUF_SYSFS_STATS): no /sys/kernel/dmabuf/buffers',
  udmabuf: 'needs /dev/udmabuf',
  vgem: 'needs vgem (/dev/dri/card* of driver "vgem")',
};

export function makeEnv(f: Features): Env {
  return {
    ...f,
    need(feature): void {
      const has = feature === 'vgem' ? f.vgemCard !== null && f.vgemRender !== null : feature === 'cmaHeap' ? f.cmaHeap !== null : f[feature];
      if (!has) throw new Skip(WHY[feature]);
    },
  };
}

function tryList(proc: ProcessLike, path: string): string[] {
  try {
    return proc.readdir(path);
  } catch {
    return [];
  }
}

/** The DRM node of `dir` whose driver is vgem (DRM_IOCTL_VERSION), by name prefix. */
function findVgem(proc: ProcessLike, prefix: string): string | null {
  for (const name of tryList(proc, '/dev/dri').filter((n) => n.startsWith(prefix)).sort()) {
    const path = `/dev/dri/${name}`;
    let fd = -1;
    try {
      fd = proc.open(path, u.O_RDWR);
      const v = u.drm_version.encode({ name_len: 8n, name: BigInt(u.drm_version.size) }, 9);
      proc.ioctl(fd, u.DRM_IOCTL_VERSION, v);
      if (u.cstr(v.subarray(u.drm_version.size)) === 'vgem') return path;
    } catch {
      // not ours
    } finally {
      if (fd >= 0) proc.close(fd);
    }
  }
  return null;
}

/** What the kernel behind `proc` has (asked through the process, unrecorded). */
export function detectFeatures(proc: ProcessLike): Features {
  const heaps = tryList(proc, '/dev/dma_heap');
  let comm = 'node';
  try {
    comm = proc.readFile('/proc/thread-self/comm').trim();
  } catch {
    // the emulator has no /proc/thread-self: its processes are named by their spawner
  }
  let cmaBytes = 0;
  try {
    cmaBytes = Number(/^CmaTotal:\s+(\d+) kB$/m.exec(proc.readFile('/proc/meminfo'))?.[1] ?? 0) * 1024;
  } catch {
    // no /proc/meminfo (the emulator's procfs has none)
  }
  return {
    swSync: tryList(proc, '/sys/kernel/debug/sync').includes('sw_sync'),
    cmaHeap: heaps.find((h) => h !== 'system') ?? null,
    cmaBytes,
    sysfsStats: tryList(proc, '/sys/kernel/dmabuf').includes('buffers'),
    udmabuf: tryList(proc, '/dev').includes('udmabuf'),
    vgemCard: findVgem(proc, 'card'),
    vgemRender: findVgem(proc, 'renderD'),
    comm,
  };
}

/**
 * The emulator configured as the kernel under test: its CMA area (none, or
 * its size: the heaps /dev/dma_heap lists follow) and CONFIG_DMABUF_SYSFS_STATS.
 * (sw_sync has no switch: the programs that need it are skipped instead.)
 */
export function emulatorBootOptions(f: Features): BootOptions {
  return { backend: 'emulator', memory: { cmaBytes: f.cmaHeap ? f.cmaBytes || undefined : 0 }, kconfig: { DMABUF_SYSFS_STATS: f.sysfsStats } };
}
