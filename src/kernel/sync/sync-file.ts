/**
 * sync_file: a fence packaged for userspace (drivers/dma-buf/sync_file.c).
 * This is the kernel object; the file descriptor, poll and ioctls on it
 * are built on it by the file layer.
 */
import { shouldFailAlloc } from '../lib/failslab.js';
import { strscpy } from '../lib/string.js';
import type { DmaFence } from '../fence/dma-fence.js';
import { dmaFenceUnwrapForEach, dmaFenceUnwrapMerge } from '../fence/dma-fence-unwrap.js';

/** sizeof(sync_file.user_name), sizeof(sync_file_info.name) */
export const SYNC_FILE_NAME_LEN = 32;

/** The fields of struct sync_fence_info (include/uapi/linux/sync_file.h) for one fence. */
export interface SyncFenceInfo {
  /** obj_name: the timeline name (at most 31 bytes) */
  objName: string;
  /** driver_name (at most 31 bytes) */
  driverName: string;
  /** dma_fence_get_status(): 0, 1 or a negative errno */
  status: number;
  flags: number;
  /** signal time in ns (CLOCK_MONOTONIC), 0 while unsignaled */
  timestampNs: number;
}

/** The output fields of struct sync_file_info. */
export interface SyncFileInfo {
  name: string;
  status: number;
  flags: number;
  numFences: number;
  /** one record per leaf fence, present only when requested */
  fences: SyncFenceInfo[] | null;
}

/** struct sync_file (the kernel side of a sync_file fd) */
export class SyncFile {
  /** the fence; the sync_file holds one reference */
  fence: DmaFence;
  /** name given by SYNC_IOC_MERGE, '' if none */
  userName = '';
  released = false;

  private constructor(fence: DmaFence) {
    this.fence = fence;
  }

  /** sync_file_create(fence): takes its own reference; null on allocation failure. */
  static create(fence: DmaFence): SyncFile | null {
    if (shouldFailAlloc('slab')) return null;
    return new SyncFile(fence.get());
  }

  /**
   * sync_file_merge(name, a, b): a new sync_file whose fence signals when
   * both have (dma_fence_unwrap_merge); null on allocation failure.
   */
  static merge(name: string, a: SyncFile, b: SyncFile): SyncFile | null {
    if (shouldFailAlloc('slab')) return null;
    const fence = dmaFenceUnwrapMerge(a.fence, b.fence);
    if (!fence) return null;
    const sf = new SyncFile(fence);
    sf.userName = strscpy(name, SYNC_FILE_NAME_LEN);
    return sf;
  }

  /**
   * sync_file_get_name(sync_file, buf, len): the merge name, else
   * `driver-timelineCONTEXT-SEQNO`, cut to fit char[len].
   */
  getName(len = SYNC_FILE_NAME_LEN): string {
    if (this.userName) return strscpy(this.userName, len);
    const f = this.fence;
    return strscpy(`${f.driverName()}-${f.timelineName()}${f.context}-${f.seqno}`, len);
  }

  /** sync_file_get_fence(): a new reference to the fence. */
  getFence(): DmaFence {
    return this.fence.get();
  }

  /** The number of leaf fences (what FILE_INFO reports in num_fences). */
  numFences(): number {
    let n = 0;
    for (const _ of dmaFenceUnwrapForEach(this.fence)) n++;
    return n;
  }

  /**
   * The fields SYNC_IOC_FILE_INFO reports. With `withFences` false (the
   * caller passed num_fences == 0) only name, status of the whole fence and
   * the leaf count; otherwise one record per leaf, and a status that is 1
   * unless some leaf is pending (0) or failed (its error) — the first such.
   */
  info(withFences: boolean): SyncFileInfo {
    if (!withFences) {
      return { name: this.getName(), status: this.fence.getStatus(), flags: 0, numFences: this.numFences(), fences: null };
    }
    const fences: SyncFenceInfo[] = [];
    let status = 1;
    for (const f of dmaFenceUnwrapForEach(this.fence)) {
      const rec = syncFillFenceInfo(f);
      fences.push(rec);
      if (status > 0) status = rec.status;
    }
    return { name: this.getName(), status, flags: 0, numFences: fences.length, fences };
  }

  /** The file's release: drops the fence reference (once). */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.fence.put();
  }
}

/** sync_fill_fence_info() */
export function syncFillFenceInfo(f: DmaFence): SyncFenceInfo {
  const status = f.getStatus();
  return {
    objName: strscpy(f.timelineName(), SYNC_FILE_NAME_LEN),
    driverName: strscpy(f.driverName(), SYNC_FILE_NAME_LEN),
    status,
    flags: 0,
    timestampNs: f.isSignaled() ? f.getTimestamp() : 0,
  };
}
