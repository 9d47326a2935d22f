/**
 * What a failed ioctl leaves in the caller's struct is what the kernel
 * wrote there: drm_ioctl() copies the struct out whatever the handler
 * answered (drivers/gpu/drm/drm_ioctl.c), so a failed GET_CAP comes back
 * with value 0; a failed DMA_HEAP_IOCTL_ALLOC leaves the bytes as they were
 * (Linux 6.12, recorded by the differential runner: heap/allocRequests).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot } from '../../src/index.js';
import * as u from '../../src/uapi/index.js';
import { openDrmDevice } from '../../src/user/drm.js';

test('a failed ioctl hands back the struct as the kernel left it', async () => {
  const machine = await boot();
  try {
    const proc = machine.spawn('copyback');
    const card = openDrmDevice(proc, 'vgem', 'card');
    const cap = u.drm_get_cap.encode({ capability: BigInt(u.DRM_CAP_DUMB_BUFFER), value: 77n });
    assert.throws(() => proc.ioctl(card, u.DRM_IOCTL_GET_CAP, cap), { code: 'EOPNOTSUPP' });
    assert.equal(u.drm_get_cap.get(cap, 'value'), 0n, 'drm_getcap() zeroed it and drm_ioctl() copied it out');
    const capAsync = u.drm_get_cap.encode({ capability: BigInt(u.DRM_CAP_DUMB_BUFFER), value: 77n });
    await assert.rejects(proc.ioctlAsync(card, u.DRM_IOCTL_GET_CAP, capAsync), { code: 'EOPNOTSUPP' });
    assert.equal(u.drm_get_cap.get(capAsync, 'value'), 0n, 'the async twin too');

    const heap = proc.open('/dev/dma_heap/system', u.O_RDWR);
    const alloc = u.dma_heap_allocation_data.encode({ len: 4096n, fd_flags: u.O_RDWR, heap_flags: 1n });
    const before = alloc.slice();
    assert.throws(() => proc.ioctl(heap, u.DMA_HEAP_IOCTL_ALLOC, alloc), { code: 'EINVAL' });
    assert.deepEqual(alloc, before, 'a failed ALLOC copies nothing out');
    proc.exit();
  } finally {
    await machine.shutdown();
  }
});
