/** The struct declaration engine (src/uapi/struct.ts): codecs, field access, range checks, the user-pointer walk. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as u from '../../src/uapi/index.js';

/** Compile-time: `A` and `B` are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
const typeIs = <T extends true>(_ok: T): void => undefined;

describe('decoded types follow the declaration', () => {
  test('u8..s32 are numbers, u64/s64/size_t/pointers bigints, char[N] bytes, a flexible array its items', () => {
    type Alloc = u.StructValue<typeof u.dma_heap_allocation_data>;
    typeIs<Equal<Alloc, { len: bigint; fd: number; fd_flags: number; heap_flags: bigint }>>(true);
    type Info = u.StructValue<typeof u.sync_file_info>;
    typeIs<Equal<Info['name'], Uint8Array>>(true);
    typeIs<Equal<Info['sync_fence_info'], bigint>>(true);
    typeIs<Equal<Info['num_fences'], number>>(true);
    type Version = u.StructValue<typeof u.drm_version>;
    typeIs<Equal<Version['name_len'], bigint>>(true);
    typeIs<Equal<Version['name'], bigint>>(true);
    typeIs<Equal<Version['version_major'], number>>(true);
    type List = u.StructValue<typeof u.udmabuf_create_list>;
    typeIs<Equal<List['list'], u.StructValue<typeof u.udmabuf_create_item>[]>>(true);
    const fences = u.sync_file_info.deref(u.sync_file_info.encode(), 'sync_fence_info');
    typeIs<Equal<typeof fences, u.StructValue<typeof u.sync_fence_info>[] | null>>(true);
    const name = u.drm_version.deref(u.drm_version.encode(), 'name');
    typeIs<Equal<typeof name, Uint8Array | null>>(true);
    assert.equal(fences, null, 'a NULL pointer dereferences to null');
    assert.equal(name, null);
  });
});

describe('encode and decode', () => {
  test('every field lands at its declared offset, little-endian, and decodes back', () => {
    const b = u.dma_heap_allocation_data.encode({ len: 0x0102030405060708n, fd: 9, fd_flags: 0x80000002, heap_flags: 2n ** 63n });
    assert.equal(b.length, 24);
    const dv = new DataView(b.buffer);
    assert.equal(dv.getBigUint64(0, true), 0x0102030405060708n);
    assert.equal(dv.getUint32(8, true), 9);
    assert.equal(dv.getUint32(12, true), 0x80000002);
    assert.equal(dv.getBigUint64(16, true), 2n ** 63n);
    assert.deepEqual(u.dma_heap_allocation_data.decode(b), { len: 0x0102030405060708n, fd: 9, fd_flags: 0x80000002, heap_flags: 2n ** 63n });
  });

  test('signed fields sign-extend; unsigned ones do not', () => {
    const b = u.sync_merge_data.encode({ fd2: -1, fence: -2147483648, flags: 0xffffffff });
    const d = u.sync_merge_data.decode(b);
    assert.equal(d.fd2, -1);
    assert.equal(d.fence, -2147483648);
    assert.equal(d.flags, 0xffffffff);
  });

  test('decode at an offset and with bytes after the struct; decode of too few bytes is a RangeError', () => {
    const b = new Uint8Array(100);
    u.sync_set_deadline.write(b, { deadline_ns: 5n, pad: 6n }, 40);
    assert.deepEqual(u.sync_set_deadline.decode(b, 40), { deadline_ns: 5n, pad: 6n });
    assert.throws(() => u.sync_set_deadline.decode(new Uint8Array(15)), RangeError);
    assert.throws(() => u.sync_set_deadline.decode(b, 90), RangeError);
  });

  test('64-bit fields take bigints or integer numbers, exactly over the whole range', () => {
    const max = 2n ** 64n - 1n;
    assert.equal(u.dma_buf_sync.get(u.dma_buf_sync.encode({ flags: max }), 'flags'), max);
    assert.equal(u.dma_buf_sync.get(u.dma_buf_sync.encode({ flags: 2 ** 53 + 2 }), 'flags'), 2n ** 53n + 2n);
    assert.equal(u.sw_sync_get_deadline.get(u.sw_sync_get_deadline.encode({ deadline_ns: 1n << 63n }), 'deadline_ns'), 1n << 63n);
  });

  test('out-of-range values are refused, naming the struct and field, never wrapped', () => {
    const cases: [() => unknown, ErrorConstructor, RegExp][] = [
      [() => u.dma_buf_sync.encode({ flags: 2n ** 64n }), RangeError, /dma_buf_sync\.flags/],
      [() => u.dma_buf_sync.encode({ flags: -1n }), RangeError, /dma_buf_sync\.flags/],
      [() => u.dma_buf_sync.encode({ flags: 2 ** 64 }), RangeError, /dma_buf_sync\.flags/],
      [() => u.dma_heap_allocation_data.encode({ fd_flags: -1 }), RangeError, /dma_heap_allocation_data\.fd_flags.*__u32/],
      [() => u.dma_heap_allocation_data.encode({ fd: 2 ** 32 }), RangeError, /\.fd:/],
      [() => u.sync_merge_data.encode({ fd2: 2 ** 31 }), RangeError, /sync_merge_data\.fd2.*__s32/],
      [() => u.sync_merge_data.encode({ fd2: -(2 ** 31) - 1 }), RangeError, /fd2/],
      [() => u.drm_version.encode({ version_major: 2 ** 31 }), RangeError, /version_major.*int/],
      [() => u.dma_heap_allocation_data.encode({ fd_flags: 1.5 }), TypeError, /fd_flags/],
      [() => u.dma_heap_allocation_data.encode({ fd_flags: 1n as never }), TypeError, /fd_flags/],
      [() => u.dma_heap_allocation_data.encode({ len: 0.5 }), TypeError, /len/],
      [() => u.dma_heap_allocation_data.encode({ len: '4096' as never }), TypeError, /len/],
      [() => u.dma_heap_allocation_data.encode({ len: Number.NaN }), TypeError, /len/],
      [() => u.sync_merge_data.encode({ name: 'text' as never }), TypeError, /name.*cbytes/],
      [() => u.sync_merge_data.encode({ name: new Uint8Array(33) }), RangeError, /name.*33 bytes/],
      [() => u.dma_heap_allocation_data.encode({ fdFlags: 2 } as never), TypeError, /no field 'fdFlags'/],
      [() => u.dma_heap_allocation_data.set(new Uint8Array(24), 'heap_flags', 2n ** 64n), RangeError, /heap_flags/],
    ];
    for (const [fn, type, message] of cases) assert.throws(fn, (e: Error) => e instanceof type && message.test(e.message), String(fn));
  });

  test('char[N] fields are bytes: zero-padded on encode, decoded byte for byte (no text round trip)', () => {
    const raw = new Uint8Array([0xff, 0xfe, 0x41, 0, 0x42, 0x43]);
    const b = u.sync_merge_data.encode({ name: raw });
    const name = u.sync_merge_data.get(b, 'name');
    assert.equal(name.length, 32);
    assert.deepEqual([...name.subarray(0, 6)], [...raw]);
    assert.ok(name.subarray(6).every((x) => x === 0));
    name[0] = 0;
    assert.equal(b[0], 0xff, 'decoded bytes are a copy');
  });

  test('set writes one field and leaves every other byte as it was', () => {
    const b = new Uint8Array(u.sw_sync_create_fence_data.size).fill(0xaa);
    u.sw_sync_create_fence_data.set(b, 'fence', 7);
    assert.deepEqual([...b.subarray(36)], [7, 0, 0, 0]);
    assert.ok(b.subarray(0, 36).every((x) => x === 0xaa));
  });
});

describe('cstr and cbytes', () => {
  test('cstr: the text before the first NUL (all of it without one)', () => {
    assert.equal(u.cstr(new TextEncoder().encode('abc\0def')), 'abc');
    assert.equal(u.cstr(new TextEncoder().encode('abc')), 'abc');
    assert.equal(u.cstr(new Uint8Array(4)), '');
  });

  test('cbytes: N bytes, the UTF-8 then NULs; a string that leaves no room for its NUL is a RangeError', () => {
    const b = u.cbytes('é', 4);
    assert.deepEqual([...b], [0xc3, 0xa9, 0, 0]);
    assert.equal(u.cbytes('x'.repeat(31), 32)[31], 0);
    assert.throws(() => u.cbytes('x'.repeat(32), 32), RangeError);
    assert.equal(u.cstr(u.cbytes('frame', 32)), 'frame');
  });
});

describe('flexible arrays', () => {
  test('udmabuf_create_list: the items follow the header; count is set from them unless given', () => {
    const items = [{ memfd: 3, offset: 0, size: 4096 }, { memfd: 4, offset: 8192n, size: 2n ** 40n }];
    const b = u.udmabuf_create_list.encode({ flags: 1, list: items });
    assert.equal(b.length, 8 + 2 * 24);
    const d = u.udmabuf_create_list.decode(b);
    assert.equal(d.count, 2);
    assert.deepEqual(d.list.map((i) => [i.memfd, i.offset, i.size]), [[3, 0n, 4096n], [4, 8192n, 2n ** 40n]]);
    assert.equal(new DataView(b.buffer).getUint32(8 + 24, true), 4, 'item 1 starts at 8 + sizeof(struct udmabuf_create_item)');
    const lying = u.udmabuf_create_list.encode({ count: 3, list: items });
    assert.equal(u.udmabuf_create_list.get(lying, 'count'), 3);
    assert.throws(() => u.udmabuf_create_list.decode(lying), RangeError, 'count says more items than the bytes hold');
  });
});

describe('user pointers', () => {
  test('sync_file_info.sync_fence_info: num_fences records, found generically', () => {
    const n = 3;
    const b = u.sync_file_info.encode({ num_fences: n, sync_fence_info: u.sync_file_info.size }, n * u.sync_fence_info.size);
    const ptrs = u.userPointers(u.sync_file_info, b);
    assert.deepEqual(ptrs.map((p) => [p.path, p.at, p.target, p.length, p.inside]), [['sync_fence_info', 48, 56n, n * 80, true]]);
    assert.deepEqual(u.pointerFields(u.sync_file_info).map((f) => f.name), ['sync_fence_info']);
    u.sync_fence_info.write(b, { status: 1, timestamp_ns: 99n }, 56 + 80);
    const recs = u.sync_file_info.deref(b, 'sync_fence_info')!;
    assert.equal(recs.length, 3);
    assert.equal(recs[1].timestamp_ns, 99n);
  });

  test('NULL pointers are skipped; a range past the argument is reported as outside', () => {
    assert.deepEqual(u.userPointers(u.sync_file_info, u.sync_file_info.encode({ num_fences: 5 })), []);
    const b = u.sync_file_info.encode({ num_fences: 5, sync_fence_info: 56 }, 80);
    const [p] = u.userPointers(u.sync_file_info, b);
    assert.equal(p.inside, false);
    assert.throws(() => u.sync_file_info.deref(b, 'sync_fence_info'), RangeError);
    const huge = u.sync_file_info.encode({ num_fences: 1, sync_fence_info: 2n ** 64n - 1n });
    assert.equal(u.userPointers(u.sync_file_info, huge)[0].inside, false);
  });

  test('drm_version: three string buffers of *_len bytes each', () => {
    const at = u.drm_version.size;
    const b = u.drm_version.encode({ name_len: 4, name: at, date_len: 8, date: at + 4, desc_len: 0, desc: 0 }, 12);
    assert.deepEqual(u.userPointers(u.drm_version, b).map((p) => [p.path, p.at, p.target, p.length]), [['name', 24, 64n, 4], ['date', 40, 68n, 8]]);
    b.set(new TextEncoder().encode('vgem'), at);
    assert.equal(u.cstr(u.drm_version.deref(b, 'name')!), 'vgem');
  });

  test('a NUL-terminated string pointee: its length counts the NUL; an unterminated one is outside', () => {
    const s = u.struct('has_string', 8, { s: u.pointer('char *', 0, u.cstring) });
    const b = new Uint8Array(16);
    s.set(b, 's', 8);
    b.set(new TextEncoder().encode('abc\0'), 8);
    assert.deepEqual(u.userPointers(s, b).map((p) => [p.length, p.inside]), [[4, true]]);
    assert.deepEqual([...s.deref(b, 's')!], [0x61, 0x62, 0x63]);
    b.fill(0x61, 8);
    assert.equal(u.userPointers(s, b)[0].inside, false);
  });

  test('pointers inside flexible-array items and inside pointed-to records are walked too', () => {
    const item = u.struct('item', 16, { len: u.field('__u64', 0), buf: u.pointer('__u64', 8, u.bytes('len')) });
    const list = u.struct('list', 8, { count: u.field('__u32', 0), items: u.flex(8, item, 'count') });
    const b = list.encode({ items: [{ len: 2, buf: 40 }, { len: 0, buf: 0 }] }, 8);
    const ptrs = u.userPointers(list, b);
    assert.deepEqual(ptrs.map((p) => [p.path, p.at, p.target]), [['items[0].buf', 16, 40n]]);
    const outer = u.struct('outer', 16, { n: u.field('__u32', 0), recs: u.pointer('__u64', 8, u.records(item, 'n')) });
    const o = outer.encode({ n: 1, recs: 16 }, 16 + 4);
    item.write(o, { len: 4, buf: 32 }, 16);
    assert.deepEqual(u.userPointers(outer, o).map((p) => [p.path, p.at, p.target, p.length]), [['recs', 8, 16n, 16], ['recs[0].buf', 24, 32n, 4]]);
  });

  test('relocate for native memory, then restore: offsets become base + offset and come back', () => {
    const b = u.sync_file_info.encode({ num_fences: 1, sync_fence_info: 56 }, 80);
    const before = b.slice();
    const base = 0x7f00_1234_0000n;
    const fault = 0xffff_ffff_ffff_f000n;
    const { bytes, pointers } = u.relocatePointers(u.sync_file_info, b, base, fault);
    assert.equal(u.sync_file_info.get(bytes, 'sync_fence_info'), base + 56n);
    assert.deepEqual(b, before, 'the argument itself is not touched');
    u.sync_file_info.set(bytes, 'num_fences', 1);
    u.restorePointers(bytes, pointers);
    assert.equal(u.sync_file_info.get(bytes, 'sync_fence_info'), 56n);
    const bad = u.sync_file_info.encode({ num_fences: 9, sync_fence_info: 56 }, 80);
    assert.equal(u.sync_file_info.get(u.relocatePointers(u.sync_file_info, bad, base, fault).bytes, 'sync_fence_info'), fault, 'a range outside the argument becomes the fault address');
  });
});

describe('declarations are checked when made', () => {
  test('overlapping, misaligned or out-of-struct fields, and counts that are not integer fields, are refused', () => {
    assert.throws(() => u.struct('bad', 8, { a: u.field('__u64', 0), b: u.field('__u32', 4) }), /overlaps/);
    assert.throws(() => u.struct('bad', 8, { a: u.field('__u32', 2) }), /offset 2/);
    assert.throws(() => u.struct('bad', 8, { a: u.field('__u64', 8) }), /does not fit/);
    assert.throws(() => u.struct('bad', 8, { p: u.pointer('__u64', 0, u.bytes('nope')) }), /count 'nope'/);
    assert.throws(() => u.struct('bad', 16, { n: u.field('char[8]', 0), p: u.pointer('__u64', 8, u.bytes('n')) }), /not an integer field/);
    assert.throws(() => u.struct('bad', 8, { n: u.field('__u32', 0), l: u.flex(4, u.udmabuf_create_item, 'n') }), /at the end/);
  });
});

describe('bad requests to the engine say what is wrong', () => {
  test('deref of a field that is not a pointer, pointeeLength of an unknown field: TypeErrors naming them', () => {
    const arg = u.sync_file_info.encode();
    assert.throws(() => u.sync_file_info.deref(arg, 'num_fences' as never), /sync_file_info\.num_fences is not a pointer field/);
    assert.throws(() => u.pointeeLength(u.sync_file_info, 'nope', arg, 0), /sync_file_info has no field 'nope'/);
  });
  test('a scalar at a fractional offset is a RangeError, as a struct at one is', () => {
    const b = new Uint8Array(16);
    assert.throws(() => u.__u32.decode(b, 1.5), RangeError);
    assert.throws(() => u.sync_merge_data.decode(new Uint8Array(64), 1.5), RangeError);
  });
  test('_IOC refuses a field that does not fit its bits (include/uapi/asm-generic/ioctl.h: a wrapped size names another request)', () => {
    assert.equal(u._IOC(u._IOC_READ | u._IOC_WRITE, 'H', 0, 24), u.DMA_HEAP_IOCTL_ALLOC);
    assert.equal(u._IOC(3, 0xff, 0xff, 0x3fff), 0xffffffff);
    assert.throws(() => u._IOC(u._IOC_READ, 'b', 0, 0x4000), RangeError);
    assert.throws(() => u._IOC(u._IOC_READ, 0x100, 0, 8), RangeError);
    assert.throws(() => u._IOC(u._IOC_READ, 'b', 256, 8), RangeError);
    assert.throws(() => u._IOC(4, 'b', 0, 8), RangeError);
    assert.throws(() => u._IOW('b', 0, -1), RangeError);
  });
});
