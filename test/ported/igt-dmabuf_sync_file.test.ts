/**
 * Port of igt-gpu-tools tests/dmabuf_sync_file.c, every subtest under its
 * original name, on vgem through /dev/dri/card0: dma-buf poll and the
 * EXPORT/IMPORT_SYNC_FILE ioctls against vgem fences and sw_sync fences.
 * The library helpers (lib/dmabuf_sync_file.c, lib/igt_vgem.c) are in
 * test/helpers/igt.ts. import-basic and import-multiple leave fences and
 * handles for the fd close at exit, as the C test does; this port closes
 * them so the machine's leak check at shutdown stays meaningful.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Process } from '../../src/index.js';
import * as u from '../../src/uapi/index.js';
import {
  dmabufBusy, dmabufExportSyncFile, dmabufImportTimelineFence, dmabufSyncFileBusy, drmOpenVgem, gemClose, hasDmabufExportSyncFile,
  hasDmabufImportSyncFile, primeHandleToFd, swSyncTimelineCreate, swSyncTimelineInc, syncFileBusy, vgemCreate, vgemFenceAttach,
  vgemFenceSignal,
} from '../helpers/igt.js';
import { backendSkip, needsSwSync, useProcess } from '../helpers/machine.js';

const { DMA_BUF_SYNC_READ: READ, DMA_BUF_SYNC_WRITE: WRITE, DMA_BUF_SYNC_RW: RW, VGEM_FENCE_WRITE } = u;

let proc: Process;
let fd: number;
useProcess('dmabuf_sync_file', (_machine, p) => {
  proc = p;
  fd = drmOpenVgem(proc); // igt_fixture: drm_open_driver(DRIVER_VGEM)
  return () => proc.close(fd);
});

const busy = (dmabuf: number, flags: number) => dmabufBusy(proc, dmabuf, flags);
const sfBusy = (dmabuf: number, flags: number) => dmabufSyncFileBusy(proc, dmabuf, flags);

/** assert dmabuf_busy and dmabuf_sync_file_busy for READ, WRITE and RW at once */
function expectBusy(dmabuf: number, read: boolean, write: boolean, rw: boolean | null = write): void {
  assert.equal(busy(dmabuf, READ), read, 'dmabuf_busy(READ)');
  assert.equal(busy(dmabuf, WRITE), write, 'dmabuf_busy(WRITE)');
  if (rw !== null) assert.equal(busy(dmabuf, RW), rw, 'dmabuf_busy(RW)');
  assert.equal(sfBusy(dmabuf, READ), read, 'dmabuf_sync_file_busy(READ)');
  assert.equal(sfBusy(dmabuf, WRITE), write, 'dmabuf_sync_file_busy(WRITE)');
  if (rw !== null) assert.equal(sfBusy(dmabuf, RW), rw, 'dmabuf_sync_file_busy(RW)');
}

describe('dmabuf_sync_file', { skip: backendSkip }, () => {
  test('export-basic', () => {
    assert.ok(hasDmabufExportSyncFile(proc, fd));
    const bo = vgemCreate(proc, fd, 1, 1, 32);
    const dmabuf = primeHandleToFd(proc, fd, bo.handle);

    expectBusy(dmabuf, false, false, null);

    let fence = vgemFenceAttach(proc, fd, bo, 0);
    expectBusy(dmabuf, false, true);
    vgemFenceSignal(proc, fd, fence);
    expectBusy(dmabuf, false, false);

    fence = vgemFenceAttach(proc, fd, bo, VGEM_FENCE_WRITE);
    expectBusy(dmabuf, true, true);
    vgemFenceSignal(proc, fd, fence);
    expectBusy(dmabuf, false, false);

    proc.close(dmabuf);
    gemClose(proc, fd, bo.handle);
  });

  test('export-before-signal', () => {
    assert.ok(hasDmabufExportSyncFile(proc, fd));
    const bo = vgemCreate(proc, fd, 1, 1, 32);
    const dmabuf = primeHandleToFd(proc, fd, bo.handle);

    assert.ok(!sfBusy(dmabuf, READ));
    assert.ok(!sfBusy(dmabuf, WRITE));

    let fence = vgemFenceAttach(proc, fd, bo, 0);
    let readFd = dmabufExportSyncFile(proc, dmabuf, READ);
    let writeFd = dmabufExportSyncFile(proc, dmabuf, WRITE);
    assert.ok(!syncFileBusy(proc, readFd));
    assert.ok(syncFileBusy(proc, writeFd));
    vgemFenceSignal(proc, fd, fence);
    assert.ok(!syncFileBusy(proc, readFd));
    assert.ok(!syncFileBusy(proc, writeFd));
    proc.close(readFd);
    proc.close(writeFd);

    fence = vgemFenceAttach(proc, fd, bo, VGEM_FENCE_WRITE);
    readFd = dmabufExportSyncFile(proc, dmabuf, READ);
    writeFd = dmabufExportSyncFile(proc, dmabuf, WRITE);
    assert.ok(syncFileBusy(proc, readFd));
    assert.ok(syncFileBusy(proc, writeFd));
    vgemFenceSignal(proc, fd, fence);
    assert.ok(!syncFileBusy(proc, readFd));
    assert.ok(!syncFileBusy(proc, writeFd));
    proc.close(readFd);
    proc.close(writeFd);

    proc.close(dmabuf);
    gemClose(proc, fd, bo.handle);
  });

  test('export-multiwait', () => {
    assert.ok(hasDmabufExportSyncFile(proc, fd));
    const bo = vgemCreate(proc, fd, 1, 1, 32);
    const dmabuf = primeHandleToFd(proc, fd, bo.handle);

    const fence1 = vgemFenceAttach(proc, fd, bo, 0);
    const fence2 = vgemFenceAttach(proc, fd, bo, 0);
    const syncFile = dmabufExportSyncFile(proc, dmabuf, WRITE);
    const fence3 = vgemFenceAttach(proc, fd, bo, 0);

    assert.ok(syncFileBusy(proc, syncFile));
    vgemFenceSignal(proc, fd, fence1);
    assert.ok(syncFileBusy(proc, syncFile));
    vgemFenceSignal(proc, fd, fence2);
    assert.ok(!syncFileBusy(proc, syncFile), 'fence3 came after the export');
    vgemFenceSignal(proc, fd, fence3);

    proc.close(syncFile);
    proc.close(dmabuf);
    gemClose(proc, fd, bo.handle);
  });

  test('export-wait-after-attach', () => {
    assert.ok(hasDmabufExportSyncFile(proc, fd));
    const bo = vgemCreate(proc, fd, 1, 1, 32);
    const dmabuf = primeHandleToFd(proc, fd, bo.handle);

    let readSyncFile = dmabufExportSyncFile(proc, dmabuf, READ);
    let writeSyncFile = dmabufExportSyncFile(proc, dmabuf, WRITE);
    const fence1 = vgemFenceAttach(proc, fd, bo, VGEM_FENCE_WRITE);
    assert.ok(!syncFileBusy(proc, readSyncFile));
    assert.ok(!syncFileBusy(proc, writeSyncFile));
    proc.close(readSyncFile);
    proc.close(writeSyncFile);

    // these wait on fence1
    readSyncFile = dmabufExportSyncFile(proc, dmabuf, READ);
    writeSyncFile = dmabufExportSyncFile(proc, dmabuf, WRITE);
    assert.ok(syncFileBusy(proc, readSyncFile));
    assert.ok(syncFileBusy(proc, writeSyncFile));

    vgemFenceSignal(proc, fd, fence1);
    const fence2 = vgemFenceAttach(proc, fd, bo, VGEM_FENCE_WRITE);
    // fence1 has signalled
    assert.ok(!syncFileBusy(proc, readSyncFile));
    assert.ok(!syncFileBusy(proc, writeSyncFile));
    // fence2 has not
    assert.ok(sfBusy(dmabuf, READ));
    assert.ok(sfBusy(dmabuf, WRITE));

    vgemFenceSignal(proc, fd, fence2);
    proc.close(readSyncFile);
    proc.close(writeSyncFile);
    proc.close(dmabuf);
    gemClose(proc, fd, bo.handle);
  });

  // igt_require_sw_sync(): the import subtests need sw_sync timelines.
  test('import-basic', { skip: needsSwSync }, () => {
    assert.ok(hasDmabufImportSyncFile(proc, fd));
    const bo = vgemCreate(proc, fd, 1, 1, 32);
    const dmabuf = primeHandleToFd(proc, fd, bo.handle);

    assert.ok(!busy(dmabuf, READ));
    assert.ok(!busy(dmabuf, WRITE));

    const timeline = swSyncTimelineCreate(proc);

    dmabufImportTimelineFence(proc, dmabuf, READ, timeline, 1);
    expectBusy(dmabuf, false, true);
    swSyncTimelineInc(proc, timeline, 1);
    expectBusy(dmabuf, false, false);

    dmabufImportTimelineFence(proc, dmabuf, WRITE, timeline, 2);
    expectBusy(dmabuf, true, true);
    swSyncTimelineInc(proc, timeline, 1);
    expectBusy(dmabuf, false, false);

    dmabufImportTimelineFence(proc, dmabuf, RW, timeline, 3);
    expectBusy(dmabuf, true, true);
    swSyncTimelineInc(proc, timeline, 1);
    expectBusy(dmabuf, false, false);

    proc.close(timeline);
    proc.close(dmabuf);
    gemClose(proc, fd, bo.handle);
  });

  for (const write of [false, true]) {
    test(write ? 'import-multiple-read-write' : 'import-multiple-read-only', { skip: needsSwSync }, () => {
      assert.ok(hasDmabufImportSyncFile(proc, fd));
      const bo = vgemCreate(proc, fd, 1, 1, 32);
      const dmabuf = primeHandleToFd(proc, fd, bo.handle);

      assert.ok(!busy(dmabuf, READ));
      assert.ok(!busy(dmabuf, WRITE));

      const readTimelines: number[] = [];
      for (let i = 0; i < 32; i++) {
        readTimelines.push(swSyncTimelineCreate(proc));
        dmabufImportTimelineFence(proc, dmabuf, READ, readTimelines[i], 1);
      }
      let writeTimeline = -1;
      if (write) {
        writeTimeline = swSyncTimelineCreate(proc);
        dmabufImportTimelineFence(proc, dmabuf, WRITE, writeTimeline, 1);
      }

      const readSyncFile = dmabufExportSyncFile(proc, dmabuf, READ);
      const writeSyncFile = dmabufExportSyncFile(proc, dmabuf, WRITE);

      for (let i = readTimelines.length - 1; i >= 0; i--) {
        assert.equal(busy(dmabuf, READ), write);
        assert.equal(syncFileBusy(proc, readSyncFile), write);
        assert.ok(busy(dmabuf, WRITE));
        assert.ok(syncFileBusy(proc, writeSyncFile));
        swSyncTimelineInc(proc, readTimelines[i], 1);
      }

      assert.equal(busy(dmabuf, READ), write);
      assert.equal(syncFileBusy(proc, readSyncFile), write);
      assert.equal(busy(dmabuf, WRITE), write);
      assert.equal(syncFileBusy(proc, writeSyncFile), write);

      if (write) swSyncTimelineInc(proc, writeTimeline, 1);

      assert.ok(!busy(dmabuf, READ));
      assert.ok(!syncFileBusy(proc, readSyncFile));
      assert.ok(!busy(dmabuf, WRITE));
      assert.ok(!syncFileBusy(proc, writeSyncFile));

      for (const t of readTimelines) proc.close(t);
      if (write) proc.close(writeTimeline);
      proc.close(readSyncFile);
      proc.close(writeSyncFile);
      proc.close(dmabuf);
      gemClose(proc, fd, bo.handle);
    });
  }
});
