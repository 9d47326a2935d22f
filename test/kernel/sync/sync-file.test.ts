/** sync_file kernel object (drivers/dma-buf/sync_file.c). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectWarn } from '../../helpers/harness.js';
import { DmaFence, type DmaFenceOps, dmaFenceContextAlloc } from '../../../src/kernel/fence/dma-fence.js';
import { SyncFile } from '../../../src/kernel/sync/sync-file.js';
import { EFAULT, EINVAL, EIO } from '../../../src/kernel/lib/errno.js';
import { failAllocDisarm, failNthAlloc } from '../../../src/kernel/lib/failslab.js';
import { FdTable } from '../../../src/kernel/fs/fdtable.js';
import { getFile } from '../../../src/kernel/fs/file.js';
import { Task } from '../../../src/kernel/fs/task.js';
import { SYNC_IOC_FILE_INFO, SYNC_IOC_MERGE, SYNC_IOC_SET_DEADLINE, sync_fence_info, sync_file_info, sync_merge_data, sync_set_deadline } from '../../../src/uapi/sync_file.js';
import { cstr } from '../../../src/uapi/struct.js';

const ops: DmaFenceOps = { getDriverName: () => 'drv', getTimelineName: () => 'tl' };
const fence = (ctx = dmaFenceContextAlloc(1), seqno = 1): DmaFence => new DmaFence(ops, ctx, seqno);

describe('sync_file', () => {
  test('create takes its own reference; the file\'s last reference drops it; a second release WARNs', async () => {
    const f = fence();
    const sf = SyncFile.create(f)!;
    assert.equal(f.refcount, 2);
    assert.equal(sf.file.name, 'sync_file');
    const got = sf.getFence();
    assert.equal(got, f);
    got.put();
    sf.release();
    assert.equal(f.refcount, 1);
    await expectWarn(() => sf.release(), 1);
    assert.equal(f.refcount, 1);
    f.put();
  });

  test('name: driver-timelineCONTEXT-SEQNO, cut to 31 bytes', () => {
    const f = fence(42, 7);
    const sf = SyncFile.create(f)!;
    assert.equal(sf.getName(), 'drv-tl42-7');
    const long = new DmaFence({ getDriverName: () => 'a-very-long-driver-name', getTimelineName: () => 'and-a-long-timeline' }, 1234, 5);
    const sf2 = SyncFile.create(long)!;
    assert.equal(sf2.getName(), 'a-very-long-driver-name-and-a-l');
    assert.equal(sf2.getName().length, 31);
    sf.release();
    sf2.release();
    f.put();
    long.put();
  });

  test('merge: the user name (cut to 31 bytes) and a fence for both', () => {
    const a = fence();
    const b = fence();
    const sa = SyncFile.create(a)!;
    const sb = SyncFile.create(b)!;
    const m = SyncFile.merge('x'.repeat(40), sa, sb)!;
    assert.equal(m.getName(), 'x'.repeat(31));
    assert.equal(m.numFences(), 2);
    a.signal();
    assert.equal(m.fence.isSignaled(), false);
    b.signal();
    assert.equal(m.fence.isSignaled(), true);
    for (const s of [sa, sb, m]) s.release();
    a.put();
    b.put();
  });

  test('merge with itself dedups; merge fails with null on ENOMEM', () => {
    const a = fence();
    const sa = SyncFile.create(a)!;
    const m = SyncFile.merge('self', sa, sa)!;
    assert.equal(m.fence, a);
    m.release();
    for (let nth = 1; nth <= 2; nth++) {
      failNthAlloc(nth, ['slab']);
      try {
        assert.equal(SyncFile.merge('n', sa, sa), null);
      } finally {
        failAllocDisarm();
      }
    }
    assert.equal(a.refcount, 2);
    sa.release();
    a.signal();
    a.put();
  });

  test('info: without fences only the whole status; with fences one record per leaf', () => {
    const a = fence(11, 1);
    const b = fence(12, 1);
    const sa = SyncFile.create(a)!;
    const sb = SyncFile.create(b)!;
    const m = SyncFile.merge('m', sa, sb)!;
    assert.deepEqual(m.info(false), { name: 'm', status: 0, flags: 0, numFences: 2, fences: null });
    b.setError(-EIO);
    b.signalTimestamp(555);
    let info = m.info(true);
    assert.equal(info.numFences, 2);
    assert.equal(info.status, 0, 'the first leaf that is pending decides');
    assert.deepEqual(info.fences, [
      { objName: 'tl', driverName: 'drv', status: 0, flags: 0, timestampNs: 0 },
      { objName: 'tl', driverName: 'drv', status: -EIO, flags: 0, timestampNs: 555 },
    ]);
    a.signalTimestamp(444);
    info = m.info(true);
    assert.equal(info.status, -EIO, 'a failed leaf decides once nothing before it is pending');
    // The merged array never had signaling enabled, so dma_fence_array_signaled()
    // polls the elements and clears the pending-error sentinel to 0 without
    // collecting their errors (drivers/dma-buf/dma-fence-array.c): status 1.
    assert.equal(m.info(false).status, 1);
    for (const s of [sa, sb, m]) s.release();
    a.put();
    b.put();
  });

  test('create fails with null on ENOMEM', () => {
    const a = fence();
    failNthAlloc(1, ['slab']);
    try {
      assert.equal(SyncFile.create(a), null);
    } finally {
      failAllocDisarm();
    }
    assert.equal(a.refcount, 1);
    a.put();
  });
});

/** A sync file installed as an fd of `files`, and its ioctl. */
function installed(sf: SyncFile, files: FdTable): { fd: number; ioctl(cmd: number, arg: Uint8Array): number } {
  const fd = files.getUnusedFdFlags(0);
  files.fdInstall(fd, sf.file);
  getFile(sf.file); // the fd's reference, besides the creator's
  const task = new Task(files);
  return { fd, ioctl: (cmd, arg) => sf.file.fOp.unlockedIoctl!(sf.file, cmd, arg, task) as number };
}

describe('sync_file ioctls work on the struct as copied in (drivers/dma-buf/sync_file.c)', () => {
  test('SYNC_IOC_MERGE changes only name[31] and fence; the name is kept as bytes', () => {
    const files = new FdTable();
    const a = fence();
    const b = fence();
    const sa = SyncFile.create(a)!;
    const sb = SyncFile.create(b)!;
    const ia = installed(sa, files);
    const ib = installed(sb, files);
    // sync_file_ioctl_merge(): data.name[sizeof(data.name) - 1] = '\0'; data.fence = fd; copy_to_user(arg, &data, sizeof(data))
    const name = new Uint8Array(32).fill(0x41);
    name.set([0xff, 0xfe], 0); // not UTF-8: the bytes go through unchanged
    const arg = sync_merge_data.encode({ name, fd2: ib.fd, fence: -77 });
    const before = arg.slice();
    assert.equal(ia.ioctl(SYNC_IOC_MERGE, arg), 0);
    const fd = sync_merge_data.get(arg, 'fence');
    assert.ok(fd >= 0);
    const expected = before.slice();
    expected[31] = 0;
    sync_merge_data.set(expected, 'fence', fd);
    assert.deepEqual(arg, expected);
    // FILE_INFO of the merge gives back the 31 bytes exactly.
    const merged = files.lookup(fd)!.privateData as SyncFile;
    const info = sync_file_info.encode();
    assert.equal(installed(merged, files).ioctl(SYNC_IOC_FILE_INFO, info), 0);
    assert.deepEqual(sync_file_info.get(info, 'name'), expected.subarray(0, 32));
    files.closeAll(); // the merge's only references were its fds
    for (const s of [sa, sb]) s.release();
    a.signal();
    b.signal();
    a.put();
    b.put();
  });

  test('SYNC_IOC_FILE_INFO writes the name with its NUL into the struct it copied in: the bytes after it survive', () => {
    const files = new FdTable();
    const a = fence(42, 7);
    const sa = SyncFile.create(a)!;
    const ia = installed(sa, files);
    // sync_file_get_name(sync_file, info.name, sizeof(info.name)) is a snprintf()/strscpy() into the copied-in struct.
    const arg = sync_file_info.encode({ name: new Uint8Array(32).fill(0xcc), sync_fence_info: 0x1234 });
    assert.equal(ia.ioctl(SYNC_IOC_FILE_INFO, arg), 0);
    const got = sync_file_info.decode(arg);
    assert.equal(cstr(got.name), 'drv-tl42-7');
    assert.equal(got.name[10], 0);
    assert.ok(got.name.subarray(11).every((x) => x === 0xcc), 'bytes after the NUL are untouched');
    assert.deepEqual([got.status, got.num_fences, got.sync_fence_info], [0, 1, 0x1234n], 'num_fences 0: the pointer is not used');
    // With room for the records: whole records (kzalloc'd), the name bytes cut at 31.
    const full = sync_file_info.encode({ num_fences: 1, sync_fence_info: sync_file_info.size }, sync_fence_info.size);
    full.fill(0xdd, sync_file_info.size);
    a.signalTimestamp(2 ** 53 + 2);
    assert.equal(ia.ioctl(SYNC_IOC_FILE_INFO, full), 0);
    const [rec] = sync_file_info.deref(full, 'sync_fence_info')!;
    assert.deepEqual([cstr(rec.obj_name), cstr(rec.driver_name), rec.status, rec.flags, rec.timestamp_ns], ['tl', 'drv', 1, 0, 2n ** 53n + 2n]);
    assert.ok(rec.obj_name.subarray(2).every((x) => x === 0), 'a record is written whole');
    // A pointer past the argument: -EFAULT; too few records: -EINVAL; flags or pad: -EINVAL.
    assert.equal(ia.ioctl(SYNC_IOC_FILE_INFO, sync_file_info.encode({ num_fences: 1, sync_fence_info: 2n ** 64n - 8n })), -EFAULT);
    assert.equal(ia.ioctl(SYNC_IOC_FILE_INFO, sync_file_info.encode({ pad: 1 })), -EINVAL);
    files.closeAll();
    sa.release();
    a.put();
  });

  test('SYNC_IOC_SET_DEADLINE: pad is a u64 (bit 63 is -EINVAL); deadline_ns reaches the fence as a ktime_t, exactly', () => {
    const files = new FdTable();
    const seen: bigint[] = [];
    const f = new DmaFence({ ...ops, setDeadline: (_f, d) => void seen.push(d) }, dmaFenceContextAlloc(1), 1);
    const sf = SyncFile.create(f)!;
    const i = installed(sf, files);
    assert.equal(i.ioctl(SYNC_IOC_SET_DEADLINE, sync_set_deadline.encode({ deadline_ns: 1, pad: 1n << 63n })), -EINVAL);
    assert.equal(i.ioctl(SYNC_IOC_SET_DEADLINE, sync_set_deadline.encode({ deadline_ns: 2n ** 60n + 1n })), 0);
    assert.equal(i.ioctl(SYNC_IOC_SET_DEADLINE, sync_set_deadline.encode({ deadline_ns: 2n ** 64n - 1n })), 0);
    assert.deepEqual(seen, [2n ** 60n + 1n, -1n], 'ns_to_ktime(): the u64\'s bits as an s64');
    files.closeAll();
    sf.release();
    f.signal();
    f.put();
  });
});
