/**
 * Pointer relocation: a struct whose user pointers are offsets into the
 * same array goes to the kernel with addresses, and comes back with its
 * output fields and its offsets.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { callRelocated, FAULT_ADDRESS } from '../../src/native/relocate.js';
import { loadLibc, type Libc } from '../../src/native/libc.js';
import { nativeSkip } from '../helpers/native.js';

let libc: Libc;
before(() => {
  if (!nativeSkip) libc = loadLibc();
});

describe('callRelocated', { skip: nativeSkip }, () => {
  test('synthetic: pointer fields hold base + offset during the call, NULL stays NULL, output comes back, offsets are restored', () => {
    // struct { u64 a_ptr; u64 null_ptr; u64 b_ptr; u32 out; u32 pad; } then the bytes a and b point to
    const arg = new Uint8Array(48);
    const v = new DataView(arg.buffer);
    v.setBigUint64(0, 40n, true);
    v.setBigUint64(8, 0n, true);
    v.setBigUint64(16, 44n, true);
    arg.set([1, 2, 3, 4], 40);
    arg.set([5, 6, 7, 8], 44);
    interface Seen { a: bigint; nul: bigint; b: bigint; atA: number[]; atB: number[]; base: bigint }
    const seenBox: Seen[] = [];
    const ret = callRelocated(libc, 'synthetic', arg, [0, 8, 16], (base) => {
      const native = new DataView(libc.view(base, 48));
      const a = native.getBigUint64(0, true);
      const b = native.getBigUint64(16, true);
      const at = (addr: bigint): number[] => [...new Uint8Array(libc.view(addr, 4))];
      seenBox.push({ a, nul: native.getBigUint64(8, true), b, atA: at(a), atB: at(b), base });
      native.setUint32(24, 0xfeed, true); // the "kernel" writes an output field
      return 7;
    });
    assert.equal(ret, 7);
    assert.equal(seenBox.length, 1);
    const s = seenBox[0];
    assert.equal(s.a, s.base + 40n);
    assert.equal(s.b, s.base + 44n);
    assert.equal(s.nul, 0n, 'NULL is not relocated');
    assert.deepEqual(s.atA, [1, 2, 3, 4]);
    assert.deepEqual(s.atB, [5, 6, 7, 8]);
    assert.equal(v.getUint32(24, true), 0xfeed, 'output copied back');
    assert.equal(v.getBigUint64(0, true), 40n, 'offsets restored');
    assert.equal(v.getBigUint64(16, true), 44n);
  });

  test('a pointer outside the argument reaches the kernel as an address it cannot use: the call is made, its own checks first; a field outside it is a RangeError', () => {
    const arg = new Uint8Array(16);
    new DataView(arg.buffer).setBigUint64(0, 16n, true);
    let seen = 0n;
    assert.equal(callRelocated(libc, 'x', arg, [0], (base) => ((seen = new DataView(libc.view(base, 16)).getBigUint64(0, true)), 0)), 0);
    assert.equal(seen, FAULT_ADDRESS, 'not NULL, not in the argument');
    assert.equal(new DataView(arg.buffer).getBigUint64(0, true), 16n, 'the offset is restored');
    let called = false;
    assert.throws(() => callRelocated(libc, 'x', arg, [12], () => ((called = true), 0)), RangeError);
    assert.equal(called, false);
  });

  test('the kernel answers EFAULT for a pointer outside the argument when it uses it (sendmsg of an msghdr whose msg_iov is outside)', () => {
    const sv = new Int32Array(2);
    assert.equal(libc.socketpair(1, 1 | 0o2000000, 0, sv), 0);
    try {
      const arg = new Uint8Array(56);
      const v = new DataView(arg.buffer);
      v.setBigUint64(16, 4096n, true); // msg_iov, past the 56 bytes
      v.setBigUint64(24, 1n, true); // msg_iovlen
      assert.throws(() => callRelocated(libc, 'sendmsg', arg, [16], (addr) => libc.sendmsg(sv[0], addr, 0)), { code: 'EFAULT', syscall: 'sendmsg' });
    } finally {
      libc.close(sv[0]);
      libc.close(sv[1]);
    }
  });

  test('a failing call throws its errno after copying back', () => {
    const arg = new Uint8Array(8);
    assert.throws(() => callRelocated(libc, 'close', arg, [], () => libc.close(-1)), { code: 'EBADF', syscall: 'close' });
  });

  test('a real struct with nested pointers: sendmsg/recvmsg (msghdr -> iovec -> data) through a socketpair', () => {
    const sv = new Int32Array(2);
    assert.equal(libc.socketpair(1, 1 | 0o2000000, 0, sv), 0);
    try {
      // msghdr (56) | iovec[2] (32) | "hello " | "world"
      const msg = (a: string, b: string): Uint8Array => {
        const arg = new Uint8Array(56 + 32 + 16);
        const v = new DataView(arg.buffer);
        v.setBigUint64(16, 56n, true); // msg_iov
        v.setBigUint64(24, 2n, true); // msg_iovlen
        v.setBigUint64(56, 88n, true); // iov[0].iov_base
        v.setBigUint64(64, BigInt(a.length), true);
        v.setBigUint64(72, BigInt(88 + a.length), true); // iov[1].iov_base
        v.setBigUint64(80, BigInt(b.length), true);
        arg.set(new TextEncoder().encode(a + b), 88);
        return arg;
      };
      const pointers = [16, 56, 72];
      assert.equal(callRelocated(libc, 'sendmsg', msg('hello ', 'world'), pointers, (addr) => libc.sendmsg(sv[0], addr, 0)), 11);
      const into = msg('xxxxxx', 'yyyyy');
      assert.equal(callRelocated(libc, 'recvmsg', into, pointers, (addr) => libc.recvmsg(sv[1], addr, 0)), 11);
      assert.equal(new TextDecoder().decode(into.subarray(88, 99)), 'hello world', 'the kernel wrote through both relocated iov_base pointers');
      assert.equal(new DataView(into.buffer).getBigUint64(72, true), 94n, 'the nested pointer is an offset again');
    } finally {
      libc.close(sv[0]);
      libc.close(sv[1]);
    }
  });
});
