/** vgem and the GEM/PRIME core (drivers/gpu/drm/vgem, drm_gem.c, drm_prime.c). */
import { describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from '../../helpers/harness.js';
import { vgemClose, vgemDevice, vgemDumbCreate, vgemDumbMapOffset, vgemFenceAttach, vgemFenceSignal, vgemOpen, VGEM_FENCE_TIMEOUT, VGEM_FENCE_WRITE, type DumbBuffer } from '../../../src/kernel/drivers/vgem.js';
import { drmGemFlink, drmGemHandleDelete, drmGemMmap, drmGemOpen, drmGemPrimeFdToHandle, drmGemPrimeHandleToFd, DRM_FILE_PAGE_OFFSET_START, drmGemStats } from '../../../src/kernel/drivers/drm-gem.js';
import { FdTable } from '../../../src/kernel/fs/fdtable.js';
import { dmaBufFd, dmaBufGet, dmaBufPut } from '../../../src/kernel/buf/dma-buf.js';
import { dmaHeapBufferAlloc } from '../../../src/kernel/heaps/dma-heap.js';
import { systemHeapCreate } from '../../../src/kernel/heaps/system-heap.js';
import { DMA_RESV_USAGE_READ, DMA_RESV_USAGE_WRITE } from '../../../src/kernel/resv/dma-resv.js';
import { Vma, VM_MAYSHARE, VM_MAYWRITE, VM_READ, VM_SHARED, VM_WRITE } from '../../../src/kernel/mm/vma.js';
import { PAGE_SIZE } from '../../../src/kernel/mm/page.js';
import { EACCES, EAGAIN, EBUSY, EFAULT, EINTR, EINVAL, ENOENT, ENOTTY, EOPNOTSUPP, ETIMEDOUT } from '../../../src/kernel/lib/errno.js';
import { _IOC_NR, _IOWR } from '../../../src/uapi/ioctl.js';
import { FIONREAD } from '../../../src/uapi/ioctls.js';
import { O_CLOEXEC, O_NONBLOCK, O_RDWR } from '../../../src/uapi/fcntl.js';
import { drmOpen } from '../../../src/kernel/drivers/drm-file.js';
import { fput } from '../../../src/kernel/fs/file.js';
import { Task } from '../../../src/kernel/fs/task.js';
import { cstr } from '../../../src/uapi/struct.js';
import {
  DRM_CAP_DUMB_BUFFER, DRM_CAP_DUMB_PREFERRED_DEPTH, DRM_CAP_DUMB_PREFER_SHADOW, DRM_CAP_SYNCOBJ, DRM_CAP_TIMESTAMP_MONOTONIC, DRM_CAP_PRIME, DRM_IOCTL_GEM_CLOSE, DRM_IOCTL_GEM_FLINK, DRM_IOCTL_GEM_OPEN, DRM_IOCTL_GET_CAP, DRM_IOCTL_MODE_CREATE_DUMB, DRM_IOCTL_SET_VERSION,
  DRM_IOCTL_VERSION, DRM_PRIME_CAP_EXPORT, DRM_PRIME_CAP_IMPORT, drm_gem_close, drm_gem_flink, drm_gem_open, drm_get_cap, drm_mode_create_dumb,
  drm_set_version, drm_version, DRM_IOCTL_VGEM_FENCE_SIGNAL, drm_vgem_fence_signal, DRM_IOCTL_MODE_MAP_DUMB, DRM_IOCTL_MODE_DESTROY_DUMB, drm_mode_map_dumb, drm_mode_destroy_dumb,
} from '../../../src/uapi/drm.js';

describe('vgem', () => {
  test('dumb buffers: pitch and size from width/height/bpp; bad sizes -EINVAL, flags ignored (drm_mode_create_dumb, Linux 6.12)', () => {
    const file = vgemOpen();
    const b = vgemDumbCreate(file, 1920, 1080, 32) as DumbBuffer;
    assert.equal(b.pitch, 7680);
    assert.equal(b.size, 7680 * 1080);
    assert.equal(b.handle, 1);
    const c = vgemDumbCreate(file, 10, 10, 24) as DumbBuffer;
    assert.equal(c.pitch, 30);
    assert.equal(c.size, PAGE_SIZE);
    assert.equal(vgemDumbCreate(file, 0, 10, 32), -EINVAL);
    // the differential runner showed Linux 6.12 taking flags = 1: drm_mode_create_dumb() does not look at them
    assert.equal((vgemDumbCreate(file, 10, 10, 32, 1) as DumbBuffer).pitch, 40);
    assert.equal(vgemDumbCreate(file, 0x7fffffff, 2, 32), -EINVAL, 'overflow');
    vgemClose(file);
  });

  test('handles, GEM_CLOSE, flink and open; the file closing frees everything', () => {
    const live = drmGemStats.live;
    const f1 = vgemOpen();
    const f2 = vgemOpen();
    const b = vgemDumbCreate(f1, 64, 64, 32) as DumbBuffer;
    const name = drmGemFlink(f1, b.handle);
    assert.ok(name > 0);
    assert.equal(drmGemFlink(f1, b.handle), name, 'the same name twice');
    const opened = drmGemOpen(f2, name) as { handle: number; size: number };
    assert.equal(opened.size, b.size);
    assert.equal(drmGemOpen(f2, 9999), -ENOENT);
    assert.equal(drmGemHandleDelete(f1, 777), -EINVAL);
    assert.equal(drmGemHandleDelete(f1, b.handle), 0);
    assert.equal(drmGemStats.live, live + 1, 'f2 still holds it');
    vgemClose(f2);
    vgemClose(f1);
    assert.equal(drmGemStats.live, live);
  });

  test('mmap through the fake offset; a file without a handle gets -EACCES; bad offsets -EINVAL', async () => {
    const f1 = vgemOpen();
    const f2 = vgemOpen();
    const b = vgemDumbCreate(f1, 32, 32, 32) as DumbBuffer;
    const off = vgemDumbMapOffset(f1, b.handle);
    assert.ok(off >= DRM_FILE_PAGE_OFFSET_START * PAGE_SIZE);
    assert.equal(vgemDumbMapOffset(f1, 99), -ENOENT);
    const vma = new Vma(0, b.size, off / PAGE_SIZE, VM_READ | VM_WRITE | VM_SHARED);
    assert.equal(await drmGemMmap(f1, vma), 0);
    vma.view![0] = 1;
    assert.equal(await drmGemMmap(f2, new Vma(0, b.size, off / PAGE_SIZE, VM_READ)), -EACCES);
    assert.equal(await drmGemMmap(f1, new Vma(0, b.size, 12345, VM_READ)), -EINVAL);
    assert.equal(await drmGemMmap(f1, new Vma(0, b.size + PAGE_SIZE, off / PAGE_SIZE, VM_READ)), -EINVAL);
    vgemClose(f1);
    vgemClose(f2);
  });

  test('PRIME: export gives one dma-buf per object; importing it back gives the same object (and handle)', async () => {
    const files = new FdTable();
    const file = vgemOpen();
    const other = vgemOpen();
    const b = vgemDumbCreate(file, 16, 16, 32) as DumbBuffer;
    assert.equal(drmGemPrimeHandleToFd(file, b.handle, 0x10, files), -EINVAL, 'flags');
    assert.equal(drmGemPrimeHandleToFd(file, 42, O_RDWR, files), -ENOENT);
    const fd = drmGemPrimeHandleToFd(file, b.handle, O_CLOEXEC | O_RDWR, files);
    const fd2 = drmGemPrimeHandleToFd(file, b.handle, O_RDWR, files);
    const d1 = dmaBufGet(fd, files);
    const d2 = dmaBufGet(fd2, files);
    assert.equal(d1, d2);
    assert.equal(d1.expName, 'drm');
    assert.ok(d1.ops.cacheSgtMapping, 'drm_gem_prime_dmabuf_ops caches');
    assert.equal(await drmGemPrimeFdToHandle(file, fd, files), b.handle, 'same file: the same handle');
    const h2 = await drmGemPrimeFdToHandle(other, fd, files);
    assert.ok(h2 > 0);
    assert.equal(other.handles.get(h2), file.handles.get(b.handle), 'the same GEM object');
    dmaBufPut(d1);
    dmaBufPut(d2);
    vgemClose(other);
    vgemClose(file);
    files.closeAll();
  });

  test('PRIME import of another exporter\'s buffer: vgem attaches and maps it; no mmap offset for an imported object', async () => {
    const files = new FdTable();
    const file = vgemOpen();
    const heapBuf = await dmaHeapBufferAlloc(systemHeapCreate(), 2 * PAGE_SIZE, O_RDWR, 0);
    const fd = dmaBufFd(heapBuf, 0, files);
    const h = await drmGemPrimeFdToHandle(file, fd, files);
    const obj = file.handles.get(h)!;
    assert.ok(obj.importAttach);
    assert.equal(obj.resv, heapBuf.resv, 'the importer uses the exporter\'s reservation object');
    assert.deepEqual(heapBuf.attachments.map((a) => a.dev.name), ['vgem']);
    // drm_gem_dumb_map_offset() (Linux 6.12 drivers/gpu/drm/drm_gem.c): imported objects are not mapped through the importer.
    assert.equal(vgemDumbMapOffset(file, h), -EINVAL);
    vgemClose(file);
    await sleep(1); // the import's teardown takes the resv lock
    assert.deepEqual(heapBuf.attachments, []);
    files.closeAll();
  });

  test('fences: attach as writer or reader, -EBUSY on conflict, signal by id once (-ENOENT after)', async () => {
    const file = vgemOpen();
    const b = vgemDumbCreate(file, 16, 16, 32) as DumbBuffer;
    const obj = file.handles.get(b.handle)!;
    assert.equal(await vgemFenceAttach(file, b.handle, 2), -EINVAL);
    assert.equal(await vgemFenceAttach(file, b.handle, 0, 1), -EINVAL);
    assert.equal(await vgemFenceAttach(file, 99, 0), -ENOENT);
    const r = await vgemFenceAttach(file, b.handle, 0);
    assert.ok(r > 0);
    assert.equal(obj.resv.testSignaled(DMA_RESV_USAGE_READ), false);
    assert.equal(obj.resv.testSignaled(DMA_RESV_USAGE_WRITE), true, 'a reader fence');
    assert.equal(await vgemFenceAttach(file, b.handle, VGEM_FENCE_WRITE), -EBUSY, 'a writer conflicts with the pending reader');
    const r2 = await vgemFenceAttach(file, b.handle, 0);
    assert.ok(r2 > r, 'readers may share');
    assert.equal(vgemFenceSignal(file, r, 1), -EINVAL);
    assert.equal(vgemFenceSignal(file, r), 0);
    assert.equal(vgemFenceSignal(file, r), -ENOENT, 'once');
    assert.equal(vgemFenceSignal(file, r2), 0);
    assert.equal(obj.resv.testSignaled(DMA_RESV_USAGE_READ), true);
    const w = await vgemFenceAttach(file, b.handle, VGEM_FENCE_WRITE);
    assert.ok(w > 0);
    vgemClose(file);
  });

  test('a fence nobody signals completes by itself after VGEM_FENCE_TIMEOUT; signalling it then is -ETIMEDOUT', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const file = vgemOpen();
      const b = vgemDumbCreate(file, 16, 16, 32) as DumbBuffer;
      const obj = file.handles.get(b.handle)!;
      const id = await vgemFenceAttach(file, b.handle, VGEM_FENCE_WRITE);
      mock.timers.tick(VGEM_FENCE_TIMEOUT - 1);
      assert.equal(obj.resv.testSignaled(DMA_RESV_USAGE_WRITE), false);
      mock.timers.tick(1);
      assert.equal(obj.resv.testSignaled(DMA_RESV_USAGE_WRITE), true, 'timed out, signaled');
      assert.equal(vgemFenceSignal(file, id), -ETIMEDOUT);
      vgemClose(file);
    } finally {
      mock.timers.reset();
    }
  });

  test('handles and flink names are the lowest free number from 1 (idr_alloc in drm_gem_handle_create_tail and drm_gem_flink_ioctl)', () => {
    const f = vgemOpen();
    const a = (vgemDumbCreate(f, 16, 16, 32) as DumbBuffer).handle;
    const b = (vgemDumbCreate(f, 16, 16, 32) as DumbBuffer).handle;
    assert.deepEqual([a, b], [1, 2]);
    assert.equal(drmGemHandleDelete(f, a), 0);
    assert.equal((vgemDumbCreate(f, 16, 16, 32) as DumbBuffer).handle, 1, 'the freed handle again');
    const n1 = drmGemFlink(f, b);
    assert.equal(drmGemHandleDelete(f, b), 0, 'the last handle: the name goes');
    const c = (vgemDumbCreate(f, 16, 16, 32) as DumbBuffer).handle;
    assert.equal(drmGemFlink(f, c), n1, 'the freed name again');
    vgemClose(f);
  });

  test('a private (copy-on-write) mapping of a GEM object is -EINVAL (drm_gem_shmem_mmap: is_cow_mapping)', async () => {
    const f = vgemOpen();
    const b = vgemDumbCreate(f, 32, 32, 32) as DumbBuffer;
    const off = vgemDumbMapOffset(f, b.handle) / PAGE_SIZE;
    assert.equal(await drmGemMmap(f, new Vma(0, PAGE_SIZE, off, VM_READ | VM_MAYWRITE)), -EINVAL);
    assert.equal(await drmGemMmap(f, new Vma(0, PAGE_SIZE, off, VM_READ | VM_SHARED | VM_MAYSHARE | VM_MAYWRITE)), 0);
    vgemClose(f);
  });
});

describe('the DRM ioctls on the struct bytes (drivers/gpu/drm/drm_ioctl.c, drm_dumb_buffers.c)', () => {
  const open = (render = false): { ioctl(cmd: number, arg: Uint8Array): Promise<number>; close(): void } => {
    const file = drmOpen(O_RDWR, render);
    const task = new Task(new FdTable());
    return { ioctl: async (cmd, arg) => file.fOp.unlockedIoctl!(file, cmd, arg, task), close: () => fput(file) };
  };

  // drm_ioctl_permit(): on a render node only DRM_RENDER_ALLOW ioctls run (-EACCES before the argument is read);
  // vgem's fences and the core's VERSION, GET_CAP, GEM_CLOSE and PRIME are allowed, dumb buffers are not.
  test('a render node runs only the DRM_RENDER_ALLOW ioctls: PRIME and fences yes, dumb buffers EACCES', async () => {
    const drm = open(true);
    assert.equal(await drm.ioctl(DRM_IOCTL_MODE_CREATE_DUMB, drm_mode_create_dumb.encode({ width: 16, height: 16, bpp: 32 })), -EACCES);
    assert.equal(await drm.ioctl(DRM_IOCTL_GET_CAP, drm_get_cap.encode({ capability: DRM_CAP_PRIME })), 0);
    assert.equal(await drm.ioctl(DRM_IOCTL_VGEM_FENCE_SIGNAL, drm_vgem_fence_signal.encode({ fence: 99 })), -ENOENT, 'allowed: the fence id is unknown');
    assert.equal(await drm.ioctl(0xc0106499, new Uint8Array(16)), -EINVAL, 'an unknown number is EINVAL before the permission check');
    drm.close();
  });

  test('GET_CAP: the capability is a u64 compared exactly; value is zeroed first and goes back even on -EOPNOTSUPP', async () => {
    const drm = open();
    // drm_getcap(): req->value = 0, then switch (req->capability); drm_ioctl() copies kdata back whatever the result.
    const arg = drm_get_cap.encode({ capability: (1n << 32n) | BigInt(DRM_CAP_PRIME), value: 0xdeadn });
    assert.equal(await drm.ioctl(DRM_IOCTL_GET_CAP, arg), -EOPNOTSUPP);
    assert.equal(drm_get_cap.get(arg, 'value'), 0n);
    const ok = drm_get_cap.encode({ capability: DRM_CAP_PRIME });
    assert.equal(await drm.ioctl(DRM_IOCTL_GET_CAP, ok), 0);
    assert.equal(drm_get_cap.get(ok, 'value'), BigInt(DRM_PRIME_CAP_IMPORT | DRM_PRIME_CAP_EXPORT));
    drm.close();
  });

  test('GET_CAP on a driver without DRIVER_MODESET: timestamps, PRIME and syncobjs answer, the KMS capabilities are -EOPNOTSUPP (drm_getcap, the Linux 6.12 drm_ioctl.c)', async () => {
    const drm = open();
    const cap = async (capability: number): Promise<[number, bigint]> => {
      const arg = drm_get_cap.encode({ capability: BigInt(capability), value: 77n });
      return [await drm.ioctl(DRM_IOCTL_GET_CAP, arg), drm_get_cap.get(arg, 'value')];
    };
    assert.deepEqual(await cap(DRM_CAP_TIMESTAMP_MONOTONIC), [0, 1n]);
    assert.deepEqual(await cap(DRM_CAP_SYNCOBJ), [0, 0n], 'vgem has no syncobjs');
    for (const kms of [DRM_CAP_DUMB_BUFFER, DRM_CAP_DUMB_PREFERRED_DEPTH, DRM_CAP_DUMB_PREFER_SHADOW, 0, 0x100]) assert.deepEqual(await cap(kms), [-EOPNOTSUPP, 0n], `capability ${kms}`);
    drm.close();
  });

  test('an ioctl of another type than DRM\'s is -ENOTTY before any number is looked at (drm_ioctl)', async () => {
    const drm = open();
    assert.equal(await drm.ioctl(_IOWR('e', _IOC_NR(DRM_IOCTL_VERSION), drm_version.size), drm_version.encode({})), -ENOTTY);
    assert.equal(await drm.ioctl(FIONREAD, new Uint8Array(4)), -ENOTTY);
    drm.close();
  });

  test('VERSION: *_len is a size_t; a NULL buffer with room copies nothing and is no fault (drm_copy_field)', async () => {
    const drm = open();
    // drm_copy_field(): `if (len && buf) copy_to_user(buf, value, len)`, and *buf_len = strlen(value) in every case.
    const nulls = drm_version.encode({ name_len: 100, date_len: 2n ** 64n - 1n, desc_len: 0 });
    assert.equal(await drm.ioctl(DRM_IOCTL_VERSION, nulls), 0);
    const v = drm_version.decode(nulls);
    const drv = vgemDevice.driver;
    assert.deepEqual([v.version_major, v.name_len, v.date_len, v.desc_len], [drv.major, 4n, BigInt(drv.date.length), BigInt(drv.desc.length)]);
    const at = drm_version.size;
    const room = drm_version.encode({ name_len: 2n ** 64n - 1n, name: at, date_len: 3, date: at + 8 }, 16);
    assert.equal(await drm.ioctl(DRM_IOCTL_VERSION, room), 0);
    assert.equal(cstr(drm_version.deref(room, 'name')!), 'vgem', 'a huge size_t is just room enough');
    const cut = Math.min(3, drv.date.length);
    assert.equal(new TextDecoder().decode(room.subarray(at + 8, at + 8 + cut)), drv.date.slice(0, 3), 'cut at date_len bytes');
    assert.equal(room[at + 8 + cut], 0);
    assert.equal(drm_version.get(room, 'date_len'), BigInt(drv.date.length));
    const bad = drm_version.encode({ name_len: 4, name: 2n ** 64n - 2n });
    assert.equal(await drm.ioctl(DRM_IOCTL_VERSION, bad), -EFAULT);
    drm.close();
  });

  test('SET_VERSION: the versions in use are written back, also with -EINVAL', async () => {
    const drm = open();
    const arg = drm_set_version.encode({ drm_di_major: 7, drm_di_minor: 0, drm_dd_major: -1, drm_dd_minor: -1 });
    assert.equal(await drm.ioctl(DRM_IOCTL_SET_VERSION, arg), -EINVAL);
    assert.deepEqual(drm_set_version.decode(arg), { drm_di_major: 1, drm_di_minor: 4, drm_dd_major: 1, drm_dd_minor: 0 });
    drm.close();
  });

  test('MODE_CREATE_DUMB: handle, pitch and size are outputs (drm_mode_create_dumb zeroes them): a size passed in is ignored', async () => {
    const drm = open();
    const arg = drm_mode_create_dumb.encode({ width: 16, height: 16, bpp: 32, pitch: 4096, size: 2n ** 63n });
    assert.equal(await drm.ioctl(DRM_IOCTL_MODE_CREATE_DUMB, arg), 0);
    const d = drm_mode_create_dumb.decode(arg);
    assert.deepEqual([d.pitch, d.size], [64, BigInt(PAGE_SIZE)]);
    const flink = drm_gem_flink.encode({ handle: d.handle });
    assert.equal(await drm.ioctl(DRM_IOCTL_GEM_FLINK, flink), 0);
    const opened = drm_gem_open.encode({ name: drm_gem_flink.get(flink, 'name') });
    assert.equal(await drm.ioctl(DRM_IOCTL_GEM_OPEN, opened), 0);
    assert.equal(drm_gem_open.get(opened, 'size'), BigInt(PAGE_SIZE), 'GEM_OPEN\'s size is a u64');
    assert.equal(await drm.ioctl(DRM_IOCTL_GEM_CLOSE, drm_gem_close.encode({ handle: drm_gem_open.get(opened, 'handle') })), 0);
    assert.equal(await drm.ioctl(DRM_IOCTL_GEM_CLOSE, drm_gem_close.encode({ handle: d.handle })), 0);
    drm.close();
  });

  test('pad is not looked at by MAP_DUMB and GEM_CLOSE; DESTROY_DUMB of an unknown handle is drm_gem_handle_delete()\'s -EINVAL', async () => {
    const drm = open();
    const create = drm_mode_create_dumb.encode({ width: 16, height: 16, bpp: 32 });
    assert.equal(await drm.ioctl(DRM_IOCTL_MODE_CREATE_DUMB, create), 0);
    const handle = drm_mode_create_dumb.get(create, 'handle');
    const map = drm_mode_map_dumb.encode({ handle, pad: 1 });
    assert.equal(await drm.ioctl(DRM_IOCTL_MODE_MAP_DUMB, map), 0);
    assert.ok(drm_mode_map_dumb.get(map, 'offset') > 0n);
    assert.equal(await drm.ioctl(DRM_IOCTL_GEM_CLOSE, drm_gem_close.encode({ handle, pad: 1 })), 0);
    assert.equal(await drm.ioctl(DRM_IOCTL_MODE_DESTROY_DUMB, drm_mode_destroy_dumb.encode({ handle })), -EINVAL);
    drm.close();
  });

  test('read: vgem sends no events, so O_NONBLOCK is -EAGAIN (any length) and a blocking read waits until a signal (-EINTR); poll reports nothing (drm_read, drm_poll)', async () => {
    const nb = drmOpen(O_RDWR | O_NONBLOCK);
    assert.equal(await nb.fOp.read!(nb, 64, 0), -EAGAIN);
    assert.equal(await nb.fOp.read!(nb, 0, 0), -EAGAIN);
    assert.equal(await nb.fOp.poll!(nb, null), 0);
    fput(nb);
    const blocking = drmOpen(O_RDWR);
    const task = new Task(new FdTable());
    let done: number | Uint8Array | null = null;
    const pending = Promise.resolve(blocking.fOp.read!(blocking, 64, 0, task)).then((r) => (done = r));
    await sleep(5);
    assert.equal(done, null, 'still waiting');
    task.kill();
    assert.equal(await pending, -EINTR);
    fput(blocking);
  });
});
