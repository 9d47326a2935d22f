/** The ioctl table (src/uapi/ioctl-table.ts): every request number with its Linux name and argument. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as u from '../../src/uapi/index.js';

/** The uapi's exported request-number constants, by the Linux names they carry. */
const requestConstants = Object.entries(u).filter(([name, v]) =>
  typeof v === 'number' && /^(DMA_BUF_IOCTL_|DMA_BUF_SET_NAME|DMA_HEAP_IOCTL_|SYNC_IOC_(MERGE|FILE_INFO|SET_DEADLINE)$|SW_SYNC_IOC_(CREATE_FENCE|INC)$|SW_SYNC_GET_DEADLINE$|UDMABUF_CREATE|DRM_IOCTL_(?!BASE))/.test(name)) as [string, number][];

describe('ioctl table', () => {
  test('ioctlInfo(request): the Linux name and the argument declaration', () => {
    const alloc = u.ioctlInfo(u.DMA_HEAP_IOCTL_ALLOC)!;
    assert.equal(alloc.name, 'DMA_HEAP_IOCTL_ALLOC');
    assert.equal(alloc.arg, u.dma_heap_allocation_data);
    assert.equal(u.ioctlInfo(u.SYNC_IOC_FILE_INFO)!.arg, u.sync_file_info);
    assert.equal(u.ioctlInfo(u.SW_SYNC_IOC_INC)!.arg, u.__u32);
    assert.equal(u.ioctlInfo(u.DMA_BUF_SET_NAME_A)!.arg, 'string pointer');
    assert.equal(u.ioctlInfo(u.DMA_BUF_SET_NAME)!.name, 'DMA_BUF_SET_NAME_B', 'the same number on a 64-bit kernel');
    assert.ok(u.ioctlInfo(u.DMA_BUF_SET_NAME)!.aliases!.includes('DMA_BUF_SET_NAME'));
    assert.equal(u.ioctlInfo(0x12345678), undefined);
  });

  test('every request constant the uapi exports is in the table under its name', () => {
    assert.ok(requestConstants.length >= 25, `found ${requestConstants.length}`);
    for (const [name, request] of requestConstants) {
      const d = u.ioctlInfo(request);
      assert.ok(d, `${name} is missing`);
      assert.ok(d.name === name || d.aliases?.includes(name), `${name} is listed as ${d.name}`);
    }
    assert.equal(new Set(u.IOCTLS.map((d) => d.request)).size, u.IOCTLS.length, 'one entry per number');
  });

  test('each number\'s size field is its argument\'s size (a string pointer: the pointer type of the number)', () => {
    for (const d of u.IOCTLS) {
      const size = u._IOC_SIZE(d.request);
      if (d.arg instanceof u.Struct || d.arg instanceof u.Scalar) assert.equal(size, d.arg.size, d.name);
      else assert.ok(d.arg === 'string pointer' && (size === 4 || size === 8), d.name);
    }
  });

  test('an argument moves to native memory generically: pointers relocated, the rest copied, then restored', () => {
    const info = u.sync_file_info.encode({ num_fences: 2, sync_fence_info: u.sync_file_info.size }, 2 * u.sync_fence_info.size);
    const base = 0x5555_0000_0000n;
    const moved = u.relocateIoctlArg(u.SYNC_IOC_FILE_INFO, info, base, 0xffff_ffff_ffff_f000n)!;
    assert.equal(u.sync_file_info.get(moved.bytes, 'sync_fence_info'), base + 56n);
    assert.deepEqual(u.restoreIoctlArg(moved.bytes, moved.pointers), info);
    const name = new TextEncoder().encode('cam\0');
    const asIs = u.relocateIoctlArg(u.DMA_BUF_SET_NAME_B, name, base, 0n)!;
    assert.deepEqual([asIs.bytes, asIs.pointers], [name, []], 'a string pointer argument is the string itself, at base');
    assert.deepEqual(u.relocateIoctlArg(u.DMA_HEAP_IOCTL_ALLOC, u.dma_heap_allocation_data.encode({ len: 1 }), base, 0n)!.pointers, []);
    assert.equal(u.relocateIoctlArg(0x1234, name, base, 0n), undefined);
  });
});
