/**
 * This project's own dma-buf trace events (not in Linux: the Linux 6.12
 * sources, drivers/dma-buf/dma-buf.c, trace no CPU access and no
 * sync-file import): dma_buf_cpu_access at each DMA_BUF_IOCTL_SYNC and
 * dma_buf_import_sync_file for each fence DMA_BUF_IOCTL_IMPORT_SYNC_FILE
 * adds, both with the buffer's inode and the caller's pid and comm, as
 * the machine's trace records them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot } from '../../../src/machine/boot.js';
import * as u from '../../../src/uapi/index.js';
import { DmaHeap, Timeline } from '../../../src/user/index.js';

test('dma_buf_cpu_access and dma_buf_import_sync_file: who, which buffer, which fence, when', async () => {
  const m = await boot();
  try {
    const p = m.spawn('tracer');
    await m.traceStart();
    const heap = DmaHeap.open(p, 'system');
    const buf = heap.allocate(4096, { name: 'traced' });
    heap.close();
    const ino = Number(p.fstat(buf.fd).st_ino);
    const tl = Timeline.open(p);
    const fence = tl.createFence(1, 'f');
    buf.importSyncFile(fence, 'write');
    fence.close();
    tl.inc(1);
    buf.access('read').end();
    // A bad direction is recorded with its errno, and starts no access.
    assert.throws(() => p.ioctl(buf.fd, u.DMA_BUF_IOCTL_SYNC, u.dma_buf_sync.encode({ flags: BigInt(u.DMA_BUF_SYNC_START) })), { code: 'EINVAL' });
    const { records } = await m.traceStop();
    buf.close();
    tl.close();
    p.exit();

    const init = records.find((r) => r.event === 'dma_fence_init' && r.fields.seqno === 1);
    assert.ok(init, 'the fence was traced');
    const imports = records.filter((r) => r.event === 'dma_buf_import_sync_file');
    assert.deepEqual(imports.map((r) => r.fields), [{ ino, pid: p.pid, comm: 'tracer', context: init.fields.context, seqno: 1, usage: 'write' }]);
    const access = records.filter((r) => r.event === 'dma_buf_cpu_access');
    assert.deepEqual(access.map((r) => [r.fields.ino, r.fields.pid, r.fields.comm, r.fields.phase, r.fields.dir, r.fields.ret]), [
      [ino, p.pid, 'tracer', 'begin', 'read', 0],
      [ino, p.pid, 'tracer', 'end', 'read', 0],
      [ino, p.pid, 'tracer', 'begin', '', -u.EINVAL],
    ]);
    for (const r of access) assert.ok(typeof r.fields.dur === 'number' && r.fields.dur >= 0);
    // In time order: the import before the signal, the access after it.
    const signalled = records.find((r) => r.event === 'dma_fence_signaled' && r.fields.seqno === 1)!;
    assert.ok(imports[0].ts <= signalled.ts && signalled.ts <= access[0].ts);
  } finally {
    await m.shutdown();
  }
});
