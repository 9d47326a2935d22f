/**
 * The dma-buf core against drivers/dma-buf/dma-buf.c and the Linux 6.x dma-buf.h:
 * export validation, file, fd/get/put, release, llseek, mmap, vmap,
 * attach/map/pin rules, move_notify, CPU access, the ioctls, poll and the
 * introspection text.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectWarn, inFreshKernel, sleep } from '../../helpers/harness.js';
import { testExporter } from '../../helpers/exporter.js';
import {
  dmaBufExport, dmaBufFd, dmaBufGet, dmaBufList, dmaBufPut, dmaBufShowFdinfo, getDmaBuf, isDmaBufFile, type DmaBufOps,
  dmaBufIsDynamic, dmaBufAttachmentIsDynamic,
} from '../../../src/kernel/buf/dma-buf.js';
import {
  dmaBufAttach, dmaBufDetach, dmaBufDynamicAttach, dmaBufMapAttachment, dmaBufMapAttachmentUnlocked, dmaBufMoveNotify, dmaBufPin,
  dmaBufUnmapAttachment, dmaBufUnmapAttachmentUnlocked, dmaBufUnpin,
} from '../../../src/kernel/buf/attachment.js';
import {
  dmaBufBeginCpuAccess, dmaBufEndCpuAccess, dmaBufMmap, dmaBufVmap, dmaBufVmapUnlocked, dmaBufVunmap, dmaBufVunmapUnlocked,
} from '../../../src/kernel/buf/cpu-access.js';
import { dmaBufExportSyncFile, dmaBufImportSyncFence, dmaBufSetName, dmaBufSyncIoctl, dmaBufIoctl } from '../../../src/kernel/buf/ioctl.js';
import { dmaBufPoll, EPOLLERR, EPOLLIN, EPOLLOUT } from '../../../src/kernel/buf/poll.js';
import { dmaBufDebugShow, dmaBufSysfsBuffers, dmaBufSysfsRead } from '../../../src/kernel/buf/debug.js';
import { Device } from '../../../src/kernel/mm/device.js';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../../../src/kernel/mm/dma-mapping.js';
import { IosysMap } from '../../../src/kernel/mm/iosys-map.js';
import { Vma, VM_READ, VM_SHARED, VM_WRITE } from '../../../src/kernel/mm/vma.js';
import { PAGE_SIZE } from '../../../src/kernel/mm/page.js';
import { FdTable } from '../../../src/kernel/fs/fdtable.js';
import { fput, type PollTable, type WaitQueue } from '../../../src/kernel/fs/file.js';
import { DmaFence, dmaFenceContextAlloc, type DmaFenceOps } from '../../../src/kernel/fence/dma-fence.js';
import { DMA_RESV_USAGE_BOOKKEEP, DMA_RESV_USAGE_KERNEL, DMA_RESV_USAGE_READ, DMA_RESV_USAGE_WRITE, DmaResv, type DmaResvUsage } from '../../../src/kernel/resv/dma-resv.js';
import { memfdCreate } from '../../../src/kernel/fs/memfd.js';
import { SyncFile } from '../../../src/kernel/sync/sync-file.js';
import { Task } from '../../../src/kernel/fs/task.js';
import { kconfig } from '../../../src/kernel/lib/kconfig.js';
import { EBUSY, EFAULT, EINVAL, ENOENT, ENOMEM, ENOTTY, EOVERFLOW, ERESTARTSYS } from '../../../src/kernel/lib/errno.js';
import { failAllocDisarm, failNthAlloc } from '../../../src/kernel/lib/failslab.js';
import type { Out } from '../../../src/kernel/lib/out.js';
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, DMA_BUF_IOCTL_SYNC, DMA_BUF_SET_NAME_A, DMA_BUF_SET_NAME_B,
  DMA_BUF_SYNC_END, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_RW, DMA_BUF_SYNC_WRITE, dma_buf_export_sync_file, dma_buf_import_sync_file, dma_buf_sync,
} from '../../../src/uapi/dma-buf.js';
import { O_CLOEXEC, O_NONBLOCK, O_RDONLY, O_RDWR, O_TRUNC, SEEK_CUR, SEEK_END, SEEK_SET } from '../../../src/uapi/fcntl.js';

const fops: DmaFenceOps = { getDriverName: () => 'drv', getTimelineName: () => 'tl' };
const newFence = (): DmaFence => new DmaFence(fops, dmaFenceContextAlloc(1), 1);
const dev = (name = 'dev0', extra: object = {}): Device => new Device({ name, ...extra });

async function addFence(resv: DmaResv, f: DmaFence, usage: DmaResvUsage): Promise<void> {
  await resv.lockResv(null);
  resv.reserveFences(1);
  resv.addFence(f, usage);
  resv.unlock();
}

function minimalOps(extra: Partial<DmaBufOps> = {}): DmaBufOps {
  return { mapDmaBuf: () => null, unmapDmaBuf: () => {}, release: () => {}, ...extra };
}

describe('dma_buf_export', () => {
  test('missing priv or mandatory ops: WARN and -EINVAL, nothing created', async () => {
    const live = dmaBufList().length;
    const base = { expName: 'x', size: PAGE_SIZE, flags: O_RDWR, priv: {} };
    for (const bad of [
      { ...base, priv: null },
      { ...base, ops: { unmapDmaBuf: () => {}, release: () => {} } },
      { ...base, ops: { mapDmaBuf: () => null, release: () => {} } },
      { ...base, ops: { mapDmaBuf: () => null, unmapDmaBuf: () => {} } },
      { ...base, ops: minimalOps({ pin: () => 0 }) },
      { ...base, ops: minimalOps({ unpin: () => {} }) },
      { ...base, ops: minimalOps({ cacheSgtMapping: true, pin: () => 0, unpin: () => {} }) },
    ]) {
      await expectWarn(() => assert.throws(() => dmaBufExport({ ops: minimalOps(), ...bad } as never), { code: 'EINVAL' }), 1);
    }
    assert.equal(dmaBufList().length, live);
  });

  test('an owner module going away: -ENOENT; an empty exporter name with sysfs stats: -EINVAL', () => {
    assert.throws(() => dmaBufExport({ expName: 'x', owner: { name: 'm', tryGet: () => false, put: () => {} }, ops: minimalOps(), size: 1, flags: 0, priv: {} }), { code: 'ENOENT' });
    assert.throws(() => dmaBufExport({ expName: '', ops: minimalOps(), size: 1, flags: 0, priv: {} }), { code: 'EINVAL' });
    failNthAlloc(1, ['slab']);
    try {
      assert.throws(() => dmaBufExport({ expName: 'x', ops: minimalOps(), size: 1, flags: 0, priv: {} }), { code: 'ENOMEM' });
    } finally {
      failAllocDisarm();
    }
  });

  test('the file: "dmabuf", flags keep only O_ACCMODE|O_NONBLOCK, unique inode numbers, own resv, global list most recent first', () => {
    let released = 0;
    const a = dmaBufExport({ expName: 'x', ops: minimalOps({ release: () => void released++ }), size: 3 * PAGE_SIZE, flags: O_RDWR | O_NONBLOCK | O_CLOEXEC | O_TRUNC, priv: {} });
    const b = dmaBufExport({ expName: 'x', ops: minimalOps({ release: () => void released++ }), size: PAGE_SIZE, flags: O_RDONLY, priv: {} });
    assert.equal(a.file.name, 'dmabuf');
    assert.ok(isDmaBufFile(a.file));
    assert.equal(a.file.fFlags, O_RDWR | O_NONBLOCK);
    assert.equal(a.file.fMode, 0x80007, 'FMODE_OPENED|LSEEK|WRITE|READ');
    assert.equal(b.file.fMode, 0x80005);
    assert.equal(b.ino, a.ino + 1);
    assert.equal(a.file.inode.size, 3 * PAGE_SIZE);
    assert.ok(a.resv instanceof DmaResv && a.resv !== b.resv);
    assert.deepEqual(dmaBufList().slice(0, 2), [b, a]);
    assert.ok(!dmaBufIsDynamic(a));
    dmaBufPut(a);
    dmaBufPut(b);
    assert.equal(released, 2);
    assert.ok(!dmaBufList().includes(a));
  });

  test('a caller-supplied reservation object is shared and not finished at release', async () => {
    const resv = new DmaResv();
    const a = dmaBufExport({ expName: 'x', ops: minimalOps(), size: PAGE_SIZE, flags: 0, resv, priv: {} });
    assert.equal(a.resv, resv);
    dmaBufPut(a);
    assert.equal(await resv.lockResv(null), 0, 'still usable');
    resv.unlock();
    resv.fini();
  });
});

describe('references: dma_buf_fd, dma_buf_get, get_dma_buf, dma_buf_put', () => {
  test('the fd takes over the export reference; get takes a new one; the last put releases', () => {
    const files = new FdTable();
    const tb = testExporter();
    const fd = dmaBufFd(tb.dmabuf, 0, files);
    assert.equal(fd, 0);
    const again = dmaBufGet(fd, files);
    assert.equal(again, tb.dmabuf);
    assert.equal(tb.dmabuf.file.refcount, 2);
    getDmaBuf(tb.dmabuf);
    dmaBufPut(tb.dmabuf);
    dmaBufPut(again);
    assert.equal(tb.counts.release, 0);
    files.close(fd);
    assert.equal(tb.counts.release, 1);
  });

  test('errors: fd of NULL -EINVAL; get of a closed fd -EBADF, of a non-dma-buf -EINVAL; put(NULL) WARNs; a full table -EMFILE', async () => {
    const files = new FdTable(1);
    assert.equal(dmaBufFd(null, 0, files), -EINVAL);
    assert.throws(() => dmaBufGet(5, files), { code: 'EBADF' });
    const memfd = memfdCreate('m', 0) as never as import('../../../src/kernel/fs/file.js').File;
    const mfd = files.getUnusedFdFlags(0);
    files.fdInstall(mfd, memfd);
    assert.throws(() => dmaBufGet(mfd, files), { code: 'EINVAL' });
    assert.equal(memfd.refcount, 1, 'the reference taken by the failed get is dropped');
    const tb = testExporter();
    assert.equal(dmaBufFd(tb.dmabuf, 0, files), -24, '-EMFILE');
    dmaBufPut(tb.dmabuf);
    await expectWarn(() => dmaBufPut(null), 1);
    files.closeAll();
  });
});

describe('llseek', () => {
  test('only SEEK_END and SEEK_SET with offset 0', () => {
    const tb = testExporter({ pages: 3 });
    const f = tb.dmabuf.file;
    assert.equal(f.fOp.llseek!(f, 0, SEEK_END), 3 * PAGE_SIZE);
    assert.equal(f.fOp.llseek!(f, 0, SEEK_SET), 0);
    assert.equal(f.fOp.llseek!(f, 0, SEEK_CUR), -EINVAL);
    assert.equal(f.fOp.llseek!(f, 1, SEEK_END), -EINVAL);
    assert.equal(f.fOp.llseek!(f, 0, 9), -EINVAL);
    dmaBufPut(tb.dmabuf);
  });
});

describe('mmap', () => {
  test('through the file: a zero-copy view; past the end -EINVAL; no mmap op -EINVAL', async () => {
    const tb = testExporter({ pages: 2 });
    const f = tb.dmabuf.file;
    const vma = new Vma(0x1000000, 2 * PAGE_SIZE, 0, VM_READ | VM_WRITE | VM_SHARED);
    assert.equal(await f.fOp.mmap!(f, vma), 0);
    vma.view![10] = 7;
    assert.equal(tb.backing.bytes[10], 7, 'the mapping is the buffer');
    assert.equal(await f.fOp.mmap!(f, new Vma(0, PAGE_SIZE, 2, VM_READ)), -EINVAL);
    assert.equal(await f.fOp.mmap!(f, new Vma(0, 3 * PAGE_SIZE, 0, VM_READ)), -EINVAL);
    const view1 = new Vma(0, PAGE_SIZE, 1, VM_READ | VM_SHARED);
    assert.equal(await f.fOp.mmap!(f, view1), 0);
    assert.equal(view1.view!.byteOffset, PAGE_SIZE);
    dmaBufPut(tb.dmabuf);
    const nommap = testExporter({ noMmap: true });
    assert.equal(await nommap.dmabuf.file.fOp.mmap!(nommap.dmabuf.file, new Vma(0, PAGE_SIZE, 0, VM_READ)), -EINVAL);
    dmaBufPut(nommap.dmabuf);
  });

  test('dma_buf_mmap from the kernel: -EOVERFLOW when the page offset wraps, -EINVAL past the end', async () => {
    const tb = testExporter({ pages: 2 });
    const vma = new Vma(0, PAGE_SIZE, 0, VM_READ);
    assert.equal(await dmaBufMmap(tb.dmabuf, vma, 0xffffffffffffffffn), -EOVERFLOW);
    assert.equal(await dmaBufMmap(tb.dmabuf, vma, 2), -EINVAL);
    assert.equal(await dmaBufMmap(tb.dmabuf, vma, 1), 0);
    assert.equal(vma.vmFile, tb.dmabuf.file);
    assert.equal(vma.vmPgoff, 1);
    await expectWarn(() => dmaBufMmap(null as never, vma, 0), 1);
    dmaBufPut(tb.dmabuf);
  });
});

describe('vmap', () => {
  test('reference counted: the exporter is called for the first map and the last unmap only', async () => {
    const tb = testExporter();
    const m1 = new IosysMap();
    const m2 = new IosysMap();
    assert.equal(await dmaBufVmapUnlocked(tb.dmabuf, m1), 0);
    assert.equal(await dmaBufVmapUnlocked(tb.dmabuf, m2), 0);
    assert.ok(m1.isEqual(m2));
    assert.equal(tb.counts.vmap, 1);
    assert.equal(tb.dmabuf.vmappingCounter, 2);
    await dmaBufVunmapUnlocked(tb.dmabuf, m2);
    assert.equal(tb.counts.vunmap, 0);
    await dmaBufVunmapUnlocked(tb.dmabuf, m1);
    assert.equal(tb.counts.vunmap, 1);
    assert.ok(tb.dmabuf.vmapPtr.isNull());
    dmaBufPut(tb.dmabuf);
  });

  test('without a vmap op -EINVAL; without the resv lock WARN and -EINVAL', async () => {
    const nov = testExporter({ noVmap: true });
    const m = new IosysMap();
    assert.equal(await dmaBufVmapUnlocked(nov.dmabuf, m), -EINVAL);
    dmaBufPut(nov.dmabuf);
    const tb = testExporter();
    assert.equal(await expectWarn(() => dmaBufVmap(tb.dmabuf, m), 1), -EINVAL);
    await expectWarn(() => dmaBufVunmap(tb.dmabuf, m), 1);
    dmaBufPut(tb.dmabuf);
  });

  test('misuse is a BUG: vunmap of an unmapped buffer, vunmap of another map, release while vmapped', async () => {
    const r = await inFreshKernel<string[]>(`
      const ops = { mapDmaBuf: () => null, unmapDmaBuf: () => {}, release: () => {},
        vmap: (d, map) => { map.setVaddr(new Uint8Array(4)); return 0; }, vunmap: () => {} };
      const out = [];
      const mk = () => k.dmaBufExport({ expName: 'x', ops, size: 4096, flags: 0, priv: {} });
      const a = mk();
      try { await a.resv.lockResv(null); k.dmaBufVunmap(a, new k.IosysMap()); } catch (e) { out.push(e.name); }
      a.resv.unlock();
      const b = mk();
      const m = new k.IosysMap();
      await k.dmaBufVmapUnlocked(b, m);
      try { await b.resv.lockResv(null); const other = new k.IosysMap(); other.setVaddr(new Uint8Array(4)); k.dmaBufVunmap(b, other); } catch (e) { out.push(e.name); }
      b.resv.unlock();
      try { k.dmaBufPut(b); } catch (e) { out.push(e.name); }
      out.push(String((k.getTaint() >> k.TAINT_DIE) & 1));
      return out;
    `);
    assert.deepEqual(r, ['KernelBug', 'KernelBug', 'KernelBug', '1']);
  });
});

describe('attach / detach', () => {
  test('attach calls the exporter, links the attachment, detach unlinks and calls detach', async () => {
    const tb = testExporter();
    const d = dev();
    const a = await dmaBufAttach(tb.dmabuf, d);
    assert.equal(a.dmabuf, tb.dmabuf);
    assert.equal(a.dev, d);
    assert.ok(!dmaBufAttachmentIsDynamic(a));
    assert.equal(a.peer2peer, false);
    assert.deepEqual(tb.dmabuf.attachments, [a]);
    assert.equal(tb.counts.attach, 1);
    await dmaBufDetach(tb.dmabuf, a);
    assert.deepEqual(tb.dmabuf.attachments, []);
    assert.equal(tb.counts.detach, 1);
    dmaBufPut(tb.dmabuf);
  });

  test('errors: no buffer or device -EINVAL (WARN); importer ops without move_notify -EINVAL (WARN); the exporter refuses (-EBUSY); ENOMEM', async () => {
    const tb = testExporter();
    await expectWarn(() => assert.rejects(dmaBufAttach(null as never, dev()), { code: 'EINVAL' }), 1);
    await expectWarn(() => assert.rejects(dmaBufAttach(tb.dmabuf, null as never), { code: 'EINVAL' }), 1);
    await expectWarn(() => assert.rejects(dmaBufDynamicAttach(tb.dmabuf, dev(), {} as never), { code: 'EINVAL' }), 1);
    failNthAlloc(1, ['slab']);
    try {
      await assert.rejects(dmaBufAttach(tb.dmabuf, dev()), { code: 'ENOMEM' });
    } finally {
      failAllocDisarm();
    }
    dmaBufPut(tb.dmabuf);
    const busy = testExporter({ attachError: -EBUSY });
    await assert.rejects(dmaBufAttach(busy.dmabuf, dev()), { code: 'EBUSY' });
    assert.deepEqual(busy.dmabuf.attachments, []);
    dmaBufPut(busy.dmabuf);
  });

  test('detach of a foreign attachment WARNs and does nothing', async () => {
    const a = testExporter();
    const b = testExporter();
    const at = await dmaBufAttach(a.dmabuf, dev());
    await expectWarn(() => dmaBufDetach(b.dmabuf, at), 1);
    assert.deepEqual(a.dmabuf.attachments, [at]);
    await dmaBufDetach(a.dmabuf, at);
    dmaBufPut(a.dmabuf);
    dmaBufPut(b.dmabuf);
  });

  test('peer2peer comes from the importer ops', async () => {
    const tb = testExporter();
    const a = await dmaBufDynamicAttach(tb.dmabuf, dev(), { allowPeer2peer: true, moveNotify: () => {} });
    assert.ok(a.peer2peer);
    assert.ok(dmaBufAttachmentIsDynamic(a));
    await dmaBufDetach(tb.dmabuf, a);
    dmaBufPut(tb.dmabuf);
  });
});

describe('map_attachment / unmap_attachment', () => {
  test('static importer of a static exporter: a fresh mapping per call, the kernel fences waited for', async () => {
    const tb = testExporter();
    const d = dev();
    const a = await dmaBufAttach(tb.dmabuf, d);
    const k = newFence();
    await addFence(tb.dmabuf.resv, k, DMA_RESV_USAGE_KERNEL);
    setTimeout(() => k.signal(), 3);
    const sgt = await dmaBufMapAttachmentUnlocked(a, DMA_TO_DEVICE);
    assert.ok(k.isSignaled(), 'the map waited for the KERNEL fence');
    assert.equal(sgt.sgl[0].dmaAddress, tb.pages[0].phys());
    const sgt2 = await dmaBufMapAttachmentUnlocked(a, DMA_TO_DEVICE);
    assert.notEqual(sgt, sgt2);
    assert.equal(tb.counts.map, 2);
    await dmaBufUnmapAttachmentUnlocked(a, sgt, DMA_TO_DEVICE);
    await dmaBufUnmapAttachmentUnlocked(a, sgt2, DMA_TO_DEVICE);
    assert.equal(tb.counts.unmap, 2);
    await dmaBufDetach(tb.dmabuf, a);
    dmaBufPut(tb.dmabuf);
    k.put();
  });

  test('cache_sgt_mapping: one mapping per attachment; another direction is -EBUSY; unmap waits for detach', async () => {
    const tb = testExporter({ cache: true });
    const a = await dmaBufAttach(tb.dmabuf, dev());
    const s1 = await dmaBufMapAttachmentUnlocked(a, DMA_TO_DEVICE);
    const s2 = await dmaBufMapAttachmentUnlocked(a, DMA_TO_DEVICE);
    assert.equal(s1, s2);
    assert.equal(tb.counts.map, 1);
    await assert.rejects(dmaBufMapAttachmentUnlocked(a, DMA_FROM_DEVICE), { code: 'EBUSY' });
    await dmaBufUnmapAttachmentUnlocked(a, s1, DMA_TO_DEVICE);
    assert.equal(tb.counts.unmap, 0, 'cached: unmapped at detach');
    await dmaBufDetach(tb.dmabuf, a);
    assert.equal(tb.counts.unmap, 1);
    dmaBufPut(tb.dmabuf);
  });

  test('static importer of a dynamic exporter: pinned and mapped BIDIRECTIONAL at attach, cached, released at detach', async () => {
    const tb = testExporter({ dynamic: true });
    assert.ok(dmaBufIsDynamic(tb.dmabuf));
    const a = await dmaBufAttach(tb.dmabuf, dev());
    assert.equal(tb.counts.pin, 1);
    assert.deepEqual(tb.dirs, [DMA_BIDIRECTIONAL]);
    assert.deepEqual(tb.lockedInMap, [true], 'dynamic exporters are called with the resv held');
    const s = await dmaBufMapAttachmentUnlocked(a, DMA_FROM_DEVICE);
    assert.equal(s, a.sgt, 'a BIDIRECTIONAL cache serves any direction');
    assert.equal(tb.counts.map, 1);
    await dmaBufDetach(tb.dmabuf, a);
    assert.equal(tb.counts.unmap, 1);
    assert.equal(tb.counts.unpin, 1);
    dmaBufPut(tb.dmabuf);
  });

  test('a failing pin at attach undoes the attach', async () => {
    const tb = testExporter({ dynamic: true, pinError: -ENOMEM });
    await assert.rejects(dmaBufAttach(tb.dmabuf, dev()), { code: 'ENOMEM' });
    assert.deepEqual(tb.dmabuf.attachments, []);
    assert.equal(tb.counts.detach, 1);
    dmaBufPut(tb.dmabuf);
  });

  test('dynamic importer of a static exporter: mapped at attach (cached), the importer need not lock', async () => {
    const tb = testExporter();
    const a = await dmaBufDynamicAttach(tb.dmabuf, dev(), { moveNotify: () => {} });
    assert.equal(tb.counts.map, 1);
    assert.ok(a.sgt);
    await dmaBufDetach(tb.dmabuf, a);
    assert.equal(tb.counts.unmap, 1);
    dmaBufPut(tb.dmabuf);
  });

  test('dynamic importer of a dynamic exporter: every map pins and every unmap unpins, unless CONFIG_DMABUF_MOVE_NOTIFY', async () => {
    for (const moveNotify of [false, true]) {
      kconfig.DMABUF_MOVE_NOTIFY = moveNotify;
      try {
        const tb = testExporter({ dynamic: true });
        const a = await dmaBufDynamicAttach(tb.dmabuf, dev(), { moveNotify: () => {} });
        assert.equal(tb.counts.map, 0, 'nothing cached');
        await tb.dmabuf.resv.lockResv(null);
        const s = await dmaBufMapAttachment(a, DMA_TO_DEVICE);
        assert.equal(tb.counts.pin, moveNotify ? 0 : 1);
        dmaBufUnmapAttachment(a, s, DMA_TO_DEVICE);
        assert.equal(tb.counts.unpin, moveNotify ? 0 : 1);
        assert.equal(await dmaBufPin(a), 0);
        dmaBufUnpin(a);
        tb.dmabuf.resv.unlock();
        await dmaBufDetach(tb.dmabuf, a);
        dmaBufPut(tb.dmabuf);
      } finally {
        kconfig.DMABUF_MOVE_NOTIFY = false;
      }
    }
  });

  test('map/unmap/pin/unpin without the resv lock: WARN and fail', async () => {
    const tb = testExporter({ dynamic: true });
    const a = await dmaBufDynamicAttach(tb.dmabuf, dev(), { moveNotify: () => {} });
    await expectWarn(() => assert.rejects(dmaBufMapAttachment(a, DMA_TO_DEVICE), { code: 'EINVAL' }), 1);
    assert.equal(await expectWarn(() => dmaBufPin(a), 1), -EINVAL);
    await expectWarn(() => dmaBufUnpin(a), 1);
    await expectWarn(() => dmaBufMoveNotify(tb.dmabuf), 1);
    assert.equal(tb.counts.pin + tb.counts.unpin + tb.counts.map, 0);
    await dmaBufDetach(tb.dmabuf, a);
    dmaBufPut(tb.dmabuf);
  });

  test('pin/unpin by a static importer WARN; map of NULL WARNs with -EINVAL; NULL from the exporter is -ENOMEM', async () => {
    const tb = testExporter();
    const a = await dmaBufAttach(tb.dmabuf, dev());
    await tb.dmabuf.resv.lockResv(null);
    await expectWarn(() => dmaBufPin(a), 1);
    await expectWarn(() => dmaBufUnpin(a), 1);
    await expectWarn(() => assert.rejects(dmaBufMapAttachment(null as never, DMA_TO_DEVICE), { code: 'EINVAL' }), 1);
    await expectWarn(() => dmaBufUnmapAttachment(a, null as never, DMA_TO_DEVICE), 1);
    tb.dmabuf.resv.unlock();
    await dmaBufDetach(tb.dmabuf, a);
    dmaBufPut(tb.dmabuf);
    const nul = testExporter({ mapReturnsNull: true });
    const b = await dmaBufAttach(nul.dmabuf, dev());
    await assert.rejects(dmaBufMapAttachmentUnlocked(b, DMA_TO_DEVICE), { code: 'ENOMEM' });
    await dmaBufDetach(nul.dmabuf, b);
    dmaBufPut(nul.dmabuf);
  });

  test('an interrupted wait for kernel fences fails the map with -ERESTARTSYS and unmaps', async () => {
    const tb = testExporter();
    const a = await dmaBufAttach(tb.dmabuf, dev());
    const k = newFence();
    await addFence(tb.dmabuf.resv, k, DMA_RESV_USAGE_KERNEL);
    // The static importer's wait is interruptible; interrupt it through the resv wait's signal.
    const orig = tb.dmabuf.resv.waitTimeout.bind(tb.dmabuf.resv);
    tb.dmabuf.resv.waitTimeout = async () => -ERESTARTSYS;
    await assert.rejects(dmaBufMapAttachmentUnlocked(a, DMA_TO_DEVICE), { code: 'ERESTARTSYS' });
    tb.dmabuf.resv.waitTimeout = orig;
    assert.equal(tb.counts.unmap, 1);
    k.signal();
    k.put();
    await dmaBufDetach(tb.dmabuf, a);
    dmaBufPut(tb.dmabuf);
  });

  test('move_notify reaches every dynamic attachment and no static one', async () => {
    const tb = testExporter({ dynamic: true });
    const heard: string[] = [];
    const a1 = await dmaBufDynamicAttach(tb.dmabuf, dev('d1'), { moveNotify: (a) => void heard.push(a.dev.name) });
    const a2 = await dmaBufDynamicAttach(tb.dmabuf, dev('d2'), { moveNotify: (a) => void heard.push(a.dev.name) });
    const s = await dmaBufAttach(tb.dmabuf, dev('static'));
    await tb.dmabuf.resv.lockResv(null);
    dmaBufMoveNotify(tb.dmabuf);
    tb.dmabuf.resv.unlock();
    assert.deepEqual(heard.sort(), ['d1', 'd2']);
    for (const a of [a1, a2, s]) await dmaBufDetach(tb.dmabuf, a);
    dmaBufPut(tb.dmabuf);
  });

  test('CONFIG_DMABUF_DEBUG: importers cannot follow the page links; the exporter gets them back', async () => {
    kconfig.DMABUF_DEBUG = true;
    try {
      const tb = testExporter();
      const a = await dmaBufAttach(tb.dmabuf, dev());
      const sgt = await dmaBufMapAttachmentUnlocked(a, DMA_TO_DEVICE);
      assert.ok(sgt.sgl[0].dmaAddress > 0, 'DMA addresses are fine');
      assert.throws(() => sgt.sgl[0].page!.pfn, /DMABUF_DEBUG/);
      await dmaBufUnmapAttachmentUnlocked(a, sgt, DMA_TO_DEVICE);
      assert.equal(sgt.sgl.length, 0, 'the exporter freed its (restored) table');
      await dmaBufDetach(tb.dmabuf, a);
      dmaBufPut(tb.dmabuf);
    } finally {
      kconfig.DMABUF_DEBUG = false;
    }
  });
});

describe('CPU access', () => {
  test('begin waits for the fences of dma_resv_usage_rw(write); end waits for nothing', async () => {
    const tb = testExporter();
    const writer = newFence();
    const reader = newFence();
    const bk = newFence();
    await addFence(tb.dmabuf.resv, writer, DMA_RESV_USAGE_WRITE);
    await addFence(tb.dmabuf.resv, reader, DMA_RESV_USAGE_READ);
    await addFence(tb.dmabuf.resv, bk, DMA_RESV_USAGE_BOOKKEEP);
    const order: string[] = [];
    const read = dmaBufBeginCpuAccess(tb.dmabuf, DMA_FROM_DEVICE).then((r) => order.push(`read:${r}`));
    const write = dmaBufBeginCpuAccess(tb.dmabuf, DMA_TO_DEVICE).then((r) => order.push(`write:${r}`));
    await sleep(2);
    assert.deepEqual(order, []);
    writer.signal();
    await read;
    await sleep(2);
    assert.deepEqual(order, ['read:0'], 'a reader waits for writers only');
    reader.signal();
    await write;
    assert.deepEqual(order, ['read:0', 'write:0'], 'a writer waits for readers too, never for bookkeep');
    assert.equal(await dmaBufEndCpuAccess(tb.dmabuf, DMA_TO_DEVICE), 0);
    assert.equal(tb.counts.begin, 2);
    assert.equal(tb.counts.end, 1);
    for (const f of [writer, reader, bk]) {
      f.signal();
      f.put();
    }
    dmaBufPut(tb.dmabuf);
  });

  test('an interrupted begin returns -ERESTARTSYS; NULL buffers WARN', async () => {
    const tb = testExporter();
    const f = newFence();
    await addFence(tb.dmabuf.resv, f, DMA_RESV_USAGE_WRITE);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 2);
    assert.equal(await dmaBufBeginCpuAccess(tb.dmabuf, DMA_FROM_DEVICE, ac.signal), -ERESTARTSYS);
    assert.equal(await expectWarn(() => dmaBufBeginCpuAccess(null as never, DMA_FROM_DEVICE), 1), -EINVAL);
    await expectWarn(() => dmaBufEndCpuAccess(null as never, DMA_FROM_DEVICE), 1);
    f.signal();
    f.put();
    dmaBufPut(tb.dmabuf);
  });

  test('DMA_BUF_IOCTL_SYNC: direction rules', async () => {
    const tb = testExporter();
    assert.equal(await dmaBufSyncIoctl(tb.dmabuf, 0), -EINVAL, 'neither read nor write');
    assert.equal(await dmaBufSyncIoctl(tb.dmabuf, DMA_BUF_SYNC_END), -EINVAL);
    assert.equal(await dmaBufSyncIoctl(tb.dmabuf, 8 | DMA_BUF_SYNC_READ), -EINVAL, 'unknown bit');
    assert.equal(await dmaBufSyncIoctl(tb.dmabuf, DMA_BUF_SYNC_READ), 0);
    assert.equal(await dmaBufSyncIoctl(tb.dmabuf, DMA_BUF_SYNC_RW | DMA_BUF_SYNC_END), 0);
    assert.equal(tb.counts.begin, 1);
    assert.equal(tb.counts.end, 1);
    dmaBufPut(tb.dmabuf);
  });
});

describe('ioctls', () => {
  test('SET_NAME: up to 31 bytes; the name shows in fdinfo and bufinfo', async () => {
    const tb = testExporter();
    assert.equal(dmaBufSetName(tb.dmabuf, 'x'.repeat(32)), -EINVAL);
    assert.equal(dmaBufSetName(tb.dmabuf, 'x'.repeat(31)), 0);
    const task = new Task(new FdTable());
    const enc = new TextEncoder();
    assert.equal(await dmaBufIoctl(tb.dmabuf.file, DMA_BUF_SET_NAME_A, enc.encode('camera\0'), task), 0);
    assert.equal(tb.dmabuf.name, 'camera');
    assert.equal(await dmaBufIoctl(tb.dmabuf.file, DMA_BUF_SET_NAME_B, enc.encode('y'.repeat(40) + '\0'), task), -EINVAL);
    assert.equal(await dmaBufIoctl(tb.dmabuf.file, DMA_BUF_SET_NAME_B, 0, task), -EFAULT);
    assert.equal(await dmaBufIoctl(tb.dmabuf.file, DMA_BUF_SET_NAME_B, enc.encode('noterm'), task), -EFAULT);
    assert.equal(tb.dmabuf.name, 'camera');
    assert.equal(await dmaBufIoctl(tb.dmabuf.file, 0x12345678, 0, task), -ENOTTY);
    dmaBufPut(tb.dmabuf);
  });

  test('SYNC through the ioctl bytes; -EFAULT for a short argument', async () => {
    const tb = testExporter();
    const task = new Task(new FdTable());
    assert.equal(await dmaBufIoctl(tb.dmabuf.file, DMA_BUF_IOCTL_SYNC, dma_buf_sync.encode({ flags: DMA_BUF_SYNC_WRITE }), task), 0);
    assert.equal(await dmaBufIoctl(tb.dmabuf.file, DMA_BUF_IOCTL_SYNC, new Uint8Array(4), task), -EFAULT);
    assert.equal(await dmaBufIoctl(tb.dmabuf.file, DMA_BUF_IOCTL_SYNC, 0, task), -EFAULT);
    dmaBufPut(tb.dmabuf);
  });

  test('SYNC: flags is a __u64 and every unknown bit of it is -EINVAL, bits 32-63 too (drivers/dma-buf/dma-buf.c dma_buf_ioctl)', async () => {
    // Linux: `if (sync.flags & ~DMA_BUF_SYNC_VALID_FLAGS_MASK) return -EINVAL;` on the whole u64.
    const tb = testExporter();
    const task = new Task(new FdTable());
    const read = BigInt(DMA_BUF_SYNC_READ);
    for (const bit of [3n, 31n, 32n, 33n, 52n, 53n, 63n]) {
      const arg = dma_buf_sync.encode({ flags: (1n << bit) | read });
      assert.equal(await dmaBufIoctl(tb.dmabuf.file, DMA_BUF_IOCTL_SYNC, arg, task), -EINVAL, `bit ${bit}`);
      assert.equal(await dmaBufSyncIoctl(tb.dmabuf, (1n << bit) | read), -EINVAL, `bit ${bit}, kernel face`);
    }
    assert.equal(tb.counts.begin, 0, 'no access began');
    assert.equal(await dmaBufIoctl(tb.dmabuf.file, DMA_BUF_IOCTL_SYNC, dma_buf_sync.encode({ flags: read }), task), 0);
    assert.equal(await dmaBufIoctl(tb.dmabuf.file, DMA_BUF_IOCTL_SYNC, dma_buf_sync.encode({ flags: read | BigInt(DMA_BUF_SYNC_END) }), task), 0);
    assert.equal(tb.counts.begin, 1);
    dmaBufPut(tb.dmabuf);
  });

  test('EXPORT_SYNC_FILE: the stub with no fences; readers get the writers, writers get everything but bookkeep', async () => {
    const tb = testExporter();
    const out: Out<SyncFile | null> = { value: null };
    assert.equal(dmaBufExportSyncFile(tb.dmabuf, 0, out), -EINVAL);
    assert.equal(dmaBufExportSyncFile(tb.dmabuf, 4 | DMA_BUF_SYNC_READ, out), -EINVAL);
    assert.equal(dmaBufExportSyncFile(tb.dmabuf, DMA_BUF_SYNC_READ, out), 0);
    assert.equal(out.value!.fence.context, 0, 'the signaled stub');
    out.value!.release();
    const w = newFence();
    const r = newFence();
    const b = newFence();
    await addFence(tb.dmabuf.resv, w, DMA_RESV_USAGE_WRITE);
    await addFence(tb.dmabuf.resv, r, DMA_RESV_USAGE_READ);
    await addFence(tb.dmabuf.resv, b, DMA_RESV_USAGE_BOOKKEEP);
    dmaBufExportSyncFile(tb.dmabuf, DMA_BUF_SYNC_READ, out);
    assert.equal(out.value!.fence, w);
    out.value!.release();
    dmaBufExportSyncFile(tb.dmabuf, DMA_BUF_SYNC_WRITE, out);
    assert.equal(out.value!.numFences(), 2);
    out.value!.release();
    for (const f of [w, r, b]) {
      f.signal();
      f.put();
    }
    dmaBufPut(tb.dmabuf);
  });

  test('IMPORT_SYNC_FILE: the leaves become writers or readers', async () => {
    const tb = testExporter();
    const f1 = newFence();
    const f2 = newFence();
    const s1 = SyncFile.create(f1)!;
    const s2 = SyncFile.create(f2)!;
    const merged = SyncFile.merge('m', s1, s2)!;
    assert.equal(await dmaBufImportSyncFence(tb.dmabuf, 0, merged.fence), -EINVAL);
    assert.equal(await dmaBufImportSyncFence(tb.dmabuf, DMA_BUF_SYNC_WRITE, merged.fence), 0);
    assert.equal(tb.dmabuf.resv.testSignaled(DMA_RESV_USAGE_WRITE), false);
    f1.signal();
    f2.signal();
    assert.equal(tb.dmabuf.resv.testSignaled(DMA_RESV_USAGE_WRITE), true);
    for (const s of [s1, s2, merged]) s.release();
    f1.put();
    f2.put();
    dmaBufPut(tb.dmabuf);
  });

  test('EXPORT/IMPORT_SYNC_FILE through the ioctl bytes: fds with O_CLOEXEC; a non-sync_file fd is -EINVAL', async () => {
    const tb = testExporter();
    const files = new FdTable();
    const task = new Task(files);
    const w = newFence();
    await addFence(tb.dmabuf.resv, w, DMA_RESV_USAGE_WRITE);
    const arg = dma_buf_export_sync_file.encode({ flags: DMA_BUF_SYNC_READ, fd: -1 });
    assert.equal(await dmaBufIoctl(tb.dmabuf.file, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg, task), 0);
    const fd = dma_buf_export_sync_file.get(arg, 'fd');
    assert.ok(fd >= 0 && files.isCloexec(fd));
    const other = testExporter();
    assert.equal(await dmaBufIoctl(other.dmabuf.file, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, dma_buf_import_sync_file.encode({ flags: DMA_BUF_SYNC_READ, fd }), task), 0);
    assert.equal(other.dmabuf.resv.testSignaled(DMA_RESV_USAGE_READ), false, 'the fence travelled to the other buffer');
    assert.equal(await dmaBufIoctl(other.dmabuf.file, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, dma_buf_import_sync_file.encode({ flags: DMA_BUF_SYNC_READ, fd: 99 }), task), -EINVAL);
    w.signal();
    w.put();
    files.closeAll();
    dmaBufPut(tb.dmabuf);
    dmaBufPut(other.dmabuf);
  });
});

describe('poll', () => {
  function table(events: number): PollTable & { queues: WaitQueue[] } {
    const queues: WaitQueue[] = [];
    return { events, queues, wait: (q) => void queues.push(q) };
  }

  test('EPOLLIN waits for writers, EPOLLOUT for readers and writers, bookkeep never counts; the callback fires once', async () => {
    const tb = testExporter();
    const f = tb.dmabuf.file;
    assert.equal(await dmaBufPoll(f, table(EPOLLIN | EPOLLOUT)), EPOLLIN | EPOLLOUT, 'idle buffer');
    assert.equal(await dmaBufPoll(f, table(0)), 0);
    const r = newFence();
    await addFence(tb.dmabuf.resv, r, DMA_RESV_USAGE_READ);
    const b = newFence();
    await addFence(tb.dmabuf.resv, b, DMA_RESV_USAGE_BOOKKEEP);
    const pt = table(EPOLLIN | EPOLLOUT);
    const woke: number[] = [];
    assert.equal(await dmaBufPoll(f, pt), EPOLLIN, 'a reader blocks writing only');
    pt.queues[0].add((m) => void woke.push(m));
    assert.equal(tb.dmabuf.cbOut.active, EPOLLOUT);
    assert.equal(tb.dmabuf.file.refcount, 2, 'the armed callback holds the file');
    assert.equal(await dmaBufPoll(f, table(EPOLLOUT)), 0, 'armed: not reported again');
    r.signal();
    assert.deepEqual(woke, [EPOLLOUT]);
    assert.equal(tb.dmabuf.cbOut.active, 0);
    assert.equal(tb.dmabuf.file.refcount, 1);
    assert.equal(await dmaBufPoll(f, table(EPOLLOUT)), EPOLLOUT);
    for (const x of [r, b]) {
      x.signal();
      x.put();
    }
    dmaBufPut(tb.dmabuf);
  });

  test('a pending poll callback keeps the buffer alive past the last put', async () => {
    const tb = testExporter();
    const w = newFence();
    await addFence(tb.dmabuf.resv, w, DMA_RESV_USAGE_WRITE);
    assert.equal(await dmaBufPoll(tb.dmabuf.file, table(EPOLLIN)), 0);
    dmaBufPut(tb.dmabuf);
    assert.equal(tb.counts.release, 0);
    w.signal();
    assert.equal(tb.counts.release, 1);
    w.put();
  });

  test('no dma-buf behind the file: EPOLLERR', async () => {
    const tb = testExporter();
    const priv = tb.dmabuf.file.privateData;
    tb.dmabuf.file.privateData = null;
    assert.equal(await dmaBufPoll(tb.dmabuf.file, table(EPOLLIN)), EPOLLERR);
    tb.dmabuf.file.privateData = priv;
    dmaBufPut(tb.dmabuf);
  });
});

describe('introspection text', () => {
  test('bufinfo: Linux\'s exact layout', async () => {
    const others = dmaBufList().length;
    assert.equal(others, 0, 'no other buffers alive');
    const tb = testExporter({ pages: 2, expName: 'camera_exp' });
    dmaBufSetName(tb.dmabuf, 'frame0');
    const a = await dmaBufAttach(tb.dmabuf, dev('isp0'));
    const w = new DmaFence(fops, 77, 5);
    await addFence(tb.dmabuf.resv, w, DMA_RESV_USAGE_WRITE);
    const s = await dmaBufDebugShow();
    const ino = String(tb.dmabuf.ino).padStart(8, '0');
    assert.equal(s,
      '\nDma-buf Objects:\n' +
      'size    \tflags   \tmode    \tcount   \texp_name\tino     \tname\n' +
      `00008192\t00000002\t00080007\t00000001\tcamera_exp\t${ino}\tframe0\n` +
      '\twrite fence:drv tl seq 5 unsignalled\n' +
      '\tAttached Devices:\n' +
      '\tisp0\n' +
      'Total 1 devices attached\n\n' +
      '\nTotal 1 objects, 8192 bytes\n');
    w.signal();
    w.put();
    await dmaBufDetach(tb.dmabuf, a);
    dmaBufPut(tb.dmabuf);
  });

  test('fdinfo: size, count (without procfs\'s reference), exp_name, and name when set', () => {
    const tb = testExporter({ pages: 1 });
    assert.equal(dmaBufShowFdinfo(tb.dmabuf.file), 'size:\t4096\ncount:\t0\nexp_name:\ttest\n');
    dmaBufSetName(tb.dmabuf, 'n');
    getDmaBuf(tb.dmabuf);
    assert.equal(dmaBufShowFdinfo(tb.dmabuf.file), 'size:\t4096\ncount:\t1\nexp_name:\ttest\nname:\tn\n');
    dmaBufPut(tb.dmabuf);
    dmaBufPut(tb.dmabuf);
  });

  test('sysfs stats: /sys/kernel/dmabuf/buffers/<ino>/{exporter_name,size}', () => {
    const tb = testExporter({ pages: 3, expName: 'sysx' });
    assert.ok(dmaBufSysfsBuffers().includes(String(tb.dmabuf.ino)));
    assert.equal(dmaBufSysfsRead(tb.dmabuf.ino, 'exporter_name'), 'sysx\n');
    assert.equal(dmaBufSysfsRead(tb.dmabuf.ino, 'size'), '12288\n');
    assert.equal(dmaBufSysfsRead(tb.dmabuf.ino, 'nope'), -ENOENT);
    const ino = tb.dmabuf.ino;
    dmaBufPut(tb.dmabuf);
    assert.equal(dmaBufSysfsRead(ino, 'size'), -ENOENT);
  });
});

describe('release', () => {
  test('attachments left at release WARN', async () => {
    const tb = testExporter();
    await dmaBufAttach(tb.dmabuf, dev());
    await expectWarn(() => dmaBufPut(tb.dmabuf), 1);
    assert.equal(tb.counts.release, 1);
  });

  test('the file\'s release happens once, at the last fput', () => {
    const tb = testExporter();
    getDmaBuf(tb.dmabuf);
    fput(tb.dmabuf.file);
    assert.equal(tb.counts.release, 0);
    fput(tb.dmabuf.file);
    assert.equal(tb.counts.release, 1);
    assert.ok(tb.dmabuf.released);
  });
});


describe('bufinfo against a concurrent release (found by the ABI fuzzer)', () => {
  test('a buffer whose last reference drops while bufinfo waits for its lock is released after it was shown, never under the lock', async () => {
    let released = 0;
    const buf = dmaBufExport({ expName: 'racy', ops: minimalOps({ release: () => void released++ }), size: PAGE_SIZE, flags: O_RDWR, priv: {} });
    await buf.resv.lockResv(null);
    const shown = dmaBufDebugShow();
    await Promise.resolve();
    dmaBufPut(buf); // the last reference goes while the walk waits for the lock
    assert.equal(released, 0, 'the walk holds a reference: Linux holds the list mutex, which release needs');
    buf.resv.unlock();
    const text = (await shown) as string;
    assert.match(text, /\tracy\t/);
    assert.equal(released, 1, 'released once the walk let go');
  });
});
