// sw_sync on the real kernel (debugfs /sys/kernel/debug/sync/sw_sync, which
// only kernels built with CONFIG_SW_SYNC have): a timeline, a fence at point
// 1 that poll() sees unsignaled, SW_SYNC_IOC_INC, and the fence signaled.
// Needs the koffi package.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as L from './libc.mjs';

const { libc } = L;
const SW_SYNC = '/sys/kernel/debug/sync/sw_sync';

function pollIn(fd) {
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(L.POLLIN, 4);
  const n = libc.poll(pfd, 1, 0);
  assert.ok(n >= 0, `poll: ${libc.errno()}`);
  return (pfd.readInt16LE(6) & L.POLLIN) !== 0;
}

test('a sw_sync fence signals when its timeline reaches its point (koffi)', { skip: !libc && 'the koffi package is not installed' }, () => {
  const tl = libc.open(SW_SYNC, L.O_RDWR | L.O_CLOEXEC);
  assert.ok(tl >= 0, `open ${SW_SYNC}: ${libc.errno()}`);
  let fence = -1;
  try {
    const data = Buffer.alloc(40);
    data.writeUInt32LE(1, 0);
    data.write('vm-smoke', 4);
    assert.equal(libc.ioctl(tl, L.SW_SYNC_IOC_CREATE_FENCE, data), 0, `SW_SYNC_IOC_CREATE_FENCE: ${libc.errno()}`);
    fence = data.readInt32LE(36);
    assert.ok(fence > 2, `fence fd ${fence}`);
    assert.equal(pollIn(fence), false, 'the fence is unsignaled before the timeline moves');
    const inc = Buffer.alloc(4);
    inc.writeUInt32LE(1);
    assert.equal(libc.ioctl(tl, L.SW_SYNC_IOC_INC, inc), 0, `SW_SYNC_IOC_INC: ${libc.errno()}`);
    assert.equal(pollIn(fence), true, 'the fence is signaled once the timeline reaches 1');
  } finally {
    if (fence >= 0) libc.close(fence);
    libc.close(tl);
  }
});
