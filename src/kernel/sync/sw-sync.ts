/**
 * sw_sync: software timelines for testing fences from userspace
 * (drivers/dma-buf/sw_sync.c, sync_debug.c). A timeline has a u32 value;
 * a point (sync_pt) at value N signals when the timeline reaches N. Points
 * use 32-bit seqno semantics, so the timeline may wrap.
 *
 * The timeline object, <debugfs>/sync/sw_sync (a new timeline per open,
 * and its ioctls) and <debugfs>/sync/info.
 */
import { shouldFailAlloc } from '../lib/failslab.js';
import { krefGet, krefPut } from '../lib/kref.js';
import type { Out } from '../lib/out.js';
import { EFAULT, EINVAL, ENOENT, ENOMEM, ENOTTY } from '../lib/errno.js';
import { copyFromUser, copyToUser, type UserArg } from '../lib/uaccess.js';
import type { Task } from '../fs/task.js';
import { File, Inode, type FileOperations } from '../fs/file.js';
import { debugfsCreateDir, debugfsCreateFile } from '../fs/debugfs.js';
import type { FdTable } from '../fs/fdtable.js';
import { O_CLOEXEC } from '../../uapi/fcntl.js';
import { SW_SYNC_GET_DEADLINE, SW_SYNC_IOC_CREATE_FENCE, SW_SYNC_IOC_INC, sw_sync_create_fence_data, sw_sync_get_deadline } from '../../uapi/sw_sync.js';
import { __u32 } from '../../uapi/struct.js';
import { SyncFile, syncFileGetFence } from './sync-file.js';
import { strscpy } from '../lib/string.js';
import { NSEC_PER_SEC } from '../lib/time.js';
import { DmaFence, type DmaFenceOps, DMA_FENCE_FLAG_TIMESTAMP_BIT, DMA_FENCE_FLAG_USER_BITS, dmaFenceContextAlloc, dmaFenceSeqnoIsLater } from '../fence/dma-fence.js';

/** Set on a point once someone has given it a deadline. */
export const SW_SYNC_HAS_DEADLINE_BIT = DMA_FENCE_FLAG_USER_BITS;
const HAS_DEADLINE = 1 << SW_SYNC_HAS_DEADLINE_BIT;

const INT_MAX = 0x7fffffff;

/** All live timelines, for <debugfs>/sync/info (sync_timeline_list). */
const timelines = new Set<SyncTimeline>();

const timelineFenceOps: DmaFenceOps = {
  getDriverName: () => 'sw_sync',
  getTimelineName: (f) => (f as SyncPt).timeline.name,
  signaled: (f) => !dmaFenceSeqnoIsLater(f, f.seqno, (f as SyncPt).timeline.value),
  release(f): void {
    const pt = f as SyncPt;
    pt.timeline.unlink(pt);
    pt.timeline.put();
  },
  // sw_sync's value callbacks: the point's seqno ("%lld") and its timeline's value ("%d").
  fenceValueStr: (f) => String(BigInt.asIntN(64, BigInt(f.seqno))),
  timelineValueStr: (f) => String((f as SyncPt).timeline.value | 0),
  setDeadline(f, deadline): void {
    const pt = f as SyncPt;
    if (pt.flags & HAS_DEADLINE) {
      // ktime_before(): a signed 64-bit compare
      if (deadline < pt.deadline) pt.deadline = deadline;
    } else {
      pt.deadline = deadline;
      pt.flags |= HAS_DEADLINE;
    }
  },
};

/** struct sync_pt: a fence on a sw_sync timeline */
export class SyncPt extends DmaFence {
  /** earliest deadline set (a ktime_t: s64 ns); valid with SW_SYNC_HAS_DEADLINE_BIT */
  deadline = 0n;
  /** on the timeline's list of active points */
  linked = false;
  constructor(readonly timeline: SyncTimeline, value: number) {
    super(timelineFenceOps, timeline.context, value);
  }
}

/** struct sync_timeline */
export class SyncTimeline {
  refcount = 1;
  readonly name: string;
  readonly context: number;
  /** the current value (u32; compared with wrap-around) */
  value = 0;
  /** active points, ordered by seqno (Linux keeps an rb-tree and a list) */
  private readonly pts: SyncPt[] = [];

  /** sync_timeline_create(name) */
  constructor(name: string) {
    this.name = strscpy(name, 32);
    this.context = dmaFenceContextAlloc(1);
    timelines.add(this);
  }

  get(): this {
    krefGet(this);
    return this;
  }

  put(): void {
    krefPut(this, (t) => timelines.delete(t));
  }

  /** Where a point of `value` goes (first index whose seqno is not earlier). */
  private search(value: number): number {
    let lo = 0;
    let hi = this.pts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (((value - this.pts[mid].seqno) | 0) > 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * sync_pt_create(timeline, value): a point at `value`. An already passed
   * value gives a signaled fence that is not tracked; a value that already
   * has an active point gives that same fence (a new reference). Null on
   * allocation failure.
   */
  createFence(value: number): SyncPt | null {
    value >>>= 0;
    if (shouldFailAlloc('slab')) return null;
    if (((value - this.value) | 0) > 0) {
      const other = this.pts[this.search(value)];
      const reused = other !== undefined && other.seqno === value ? other.getUnlessZero() : null;
      if (reused) return reused;
    }
    const pt = new SyncPt(this.get(), value);
    if (!pt.isSignaled()) {
      this.pts.splice(this.search(value), 0, pt);
      pt.linked = true;
    }
    return pt;
  }

  /** @internal remove a point from the active list (its release, or its signal). */
  unlink(pt: SyncPt): void {
    if (!pt.linked) return;
    pt.linked = false;
    const at = this.pts.indexOf(pt, this.search(pt.seqno));
    if (at >= 0) this.pts.splice(at, 1);
  }

  /**
   * sync_timeline_signal(timeline, inc): advance by `inc` and signal, in
   * seqno order, every point the timeline has reached.
   */
  signal(inc: number): void {
    this.value = (this.value + inc) >>> 0;
    let n = 0;
    while (n < this.pts.length && this.pts[n].ops.signaled!(this.pts[n])) n++;
    if (n === 0) return;
    const reached = this.pts.splice(0, n);
    for (const pt of reached) {
      pt.linked = false;
      pt.get();
    }
    for (const pt of reached) pt.signal();
    for (const pt of reached) pt.put();
  }

  /** SW_SYNC_IOC_INC: add a u32, in steps of at most INT_MAX so the wrap-around compare holds. */
  inc(value: number): void {
    value >>>= 0;
    while (value > INT_MAX) {
      this.signal(INT_MAX);
      value -= INT_MAX;
    }
    this.signal(value);
  }

  /**
   * The timeline fd's release: every pending point completes with -ENOENT,
   * then the file's reference goes.
   */
  release(): void {
    for (const pt of [...this.pts]) {
      pt.setError(-ENOENT);
      pt.signal();
    }
    this.put();
  }

  /** The active (tracked) points, oldest first. */
  activePoints(): readonly SyncPt[] {
    return this.pts;
  }
}

/** Whether `f` is a sw_sync point. */
export function isSyncPt(f: DmaFence): f is SyncPt {
  return f.ops === timelineFenceOps;
}

/**
 * SW_SYNC_GET_DEADLINE on a fence: 0 with `deadline.value` set (a ktime_t,
 * s64 ns), -EINVAL if the fence is not a sw_sync point, -ENOENT if no
 * deadline was set.
 */
export function swSyncGetDeadline(fence: DmaFence, deadline: Out<bigint>): number {
  if (!isSyncPt(fence)) return -EINVAL;
  if (!(fence.flags & HAS_DEADLINE)) return -ENOENT;
  deadline.value = fence.deadline;
  return 0;
}

function statusStr(status: number): string {
  if (status < 0) return 'error';
  return status > 0 ? 'signaled' : 'active';
}

/** <debugfs>/sync/info (sync_info_debugfs_show) */
export function syncInfoDebugfsShow(): string {
  let s = 'objs:\n--------------\n';
  for (const obj of timelines) {
    s += `${obj.name}: ${obj.value | 0}\n`;
    for (const pt of obj.activePoints()) {
      s += `  fence ${statusStr(pt.getStatus())}`;
      if (pt.flags & (1 << DMA_FENCE_FLAG_TIMESTAMP_BIT)) {
        const sec = Math.floor(pt.timestamp / NSEC_PER_SEC);
        s += `@${sec}.${String(pt.timestamp - sec * NSEC_PER_SEC).padStart(9, '0')}`;
      }
      // With both value callbacks (sw_sync has them): ": <fence value> / <timeline value>".
      const ops = pt.ops;
      if (ops.fenceValueStr && ops.timelineValueStr) {
        const value = ops.fenceValueStr(pt);
        if (value) {
          s += `: ${value}`;
          const tl = ops.timelineValueStr(pt);
          if (tl) s += ` / ${tl}`;
        }
      }
      s += '\n';
    }
    s += '\n';
  }
  s += 'fences:\n--------------\n';
  return s;
}

// ---- <debugfs>/sync/sw_sync (sw_sync_debugfs_fops) ----

/**
 * SW_SYNC_IOC_CREATE_FENCE: a sync_file fd (O_CLOEXEC) for a point at
 * `value`. The struct goes back as it came with only `fence` set (name is
 * not used).
 */
function ioctlCreateFence(obj: SyncTimeline, arg: UserArg, files: FdTable): number {
  const fd = files.getUnusedFdFlags(O_CLOEXEC);
  if (fd < 0) return fd;
  const raw = copyFromUser(arg, sw_sync_create_fence_data.size);
  if (!raw) {
    files.putUnusedFd(fd);
    return -EFAULT;
  }
  const pt = obj.createFence(sw_sync_create_fence_data.get(raw, 'value'));
  if (!pt) {
    files.putUnusedFd(fd);
    return -ENOMEM;
  }
  const sf = SyncFile.create(pt);
  pt.put();
  if (!sf) {
    files.putUnusedFd(fd);
    return -ENOMEM;
  }
  sw_sync_create_fence_data.set(raw, 'fence', fd);
  if (!copyToUser(arg, raw)) {
    sf.release();
    files.putUnusedFd(fd);
    return -EFAULT;
  }
  files.fdInstall(fd, sf.file);
  return 0;
}

/**
 * SW_SYNC_GET_DEADLINE: deadline_ns (a u64, all of whose bits must be 0 on
 * the way in) and pad must be zero; the struct goes back with deadline_ns
 * set to the point's ktime_t.
 */
function ioctlGetDeadline(arg: UserArg, files: FdTable): number {
  const raw = copyFromUser(arg, sw_sync_get_deadline.size);
  if (!raw) return -EFAULT;
  const data = sw_sync_get_deadline.decode(raw);
  if (data.deadline_ns || data.pad) return -EINVAL;
  const fence = syncFileGetFence(data.fence_fd, files);
  if (!fence) return -EINVAL;
  const out: Out<bigint> = { value: 0n };
  const ret = swSyncGetDeadline(fence, out);
  fence.put();
  if (ret) return ret;
  // ktime_to_ns() into a __u64: the s64's bits
  sw_sync_get_deadline.set(raw, 'deadline_ns', BigInt.asUintN(64, out.value));
  return copyToUser(arg, raw) ? 0 : -EFAULT;
}

const swSyncFops: FileOperations = {
  release(_inode, file): void {
    (file.privateData as SyncTimeline).release();
  },
  unlockedIoctl(file, cmd, arg, task: Task): number {
    const obj = file.privateData as SyncTimeline;
    switch (cmd) {
      case SW_SYNC_IOC_CREATE_FENCE:
        return ioctlCreateFence(obj, arg, task.files);
      case SW_SYNC_IOC_INC: {
        const raw = copyFromUser(arg, __u32.size);
        if (!raw) return -EFAULT;
        obj.inc(__u32.decode(raw));
        return 0;
      }
      case SW_SYNC_GET_DEADLINE:
        return ioctlGetDeadline(arg, task.files);
      default:
        return -ENOTTY;
    }
  },
};

/** sw_sync_debugfs_open(): a new timeline named after the opening task. */
export function swSyncOpen(task: Task, flags: number): File {
  return new File(new Inode(), 'sw_sync', flags, swSyncFops, new SyncTimeline(task.comm));
}

/**
 * sync_debugfs_init() (late_initcall): <debugfs>/sync/info (0444) and
 * <debugfs>/sync/sw_sync (0644), the only sw_sync node of Linux 6.x
 * (drivers/dma-buf/sync_debug.c).
 */
export function syncDebugfsInit(): void {
  const dir = debugfsCreateDir('sync', null);
  debugfsCreateFile('info', 0o444, dir, null, { show: () => syncInfoDebugfsShow() });
  debugfsCreateFile('sw_sync', 0o644, dir, null, { open: ({ task, flags }) => swSyncOpen(task, flags) });
}
