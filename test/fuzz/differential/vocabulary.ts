/**
 * The differential fuzzer's operations: the userspace-ABI fuzzer's own
 * vocabulary (ops.ts), kept to what one process does deterministically, so
 * that the emulator and a real kernel given the same sequence must answer
 * the same. Dropped: fd passing (it needs a second process), exit (the
 * sequence's end is the exit). Changed: every poll timeout is 0 (nothing
 * else runs that could end a wait), and an ioctl argument of the wrong size
 * is noise of the right size (the native backend would hand the real kernel
 * the bytes after the array: whatever Node keeps there). The rest — fds the
 * process does not hold, lengths that would exhaust memory, waits no one
 * ends — is made deterministic when the operation runs (executor.ts), where
 * the process's state is known.
 */
import fc from 'fast-check';
import { opArb, type Op } from '../ops.js';

/** An operation of the differential vocabulary. */
export type DiffOp = Exclude<Op, { op: 'send' } | { op: 'receive' } | { op: 'exit' }>;

/** The operation made deterministic, or null for one a single process cannot make deterministically. */
export function deterministic(o: Op): DiffOp | null {
  switch (o.op) {
    case 'send':
    case 'receive':
    case 'exit':
      return null;
    case 'poll':
      return { ...o, timeout: 0 };
    default:
      return 'v' in o && o.v === 'short' ? { ...o, v: 'random' } : o;
  }
}

/** One operation of the differential vocabulary. */
export const diffOpArb: fc.Arbitrary<DiffOp> = opArb.filter((o) => deterministic(o) !== null).map((o) => deterministic(o)!);

const none = new Uint8Array(0);

/**
 * What a sequence usually starts with: the devices open, a memfd that
 * udmabuf takes, a buffer of each kind, a fence. Without it most
 * operations of a short sequence would name fds the process does not hold
 * (EBADF, which says little). Each is left out one time in ten, and
 * shrinking leaves out those a divergence does not need.
 */
export const SETUP: readonly DiffOp[] = [
  { op: 'open', path: 0, flags: 0o2000002 }, // /dev/dma_heap/system, O_RDWR | O_CLOEXEC
  { op: 'open', path: 1, flags: 0o2000002 }, // /dev/dma_heap/reserved
  { op: 'open', path: 2, flags: 2 }, // /dev/udmabuf
  { op: 'open', path: 3, flags: 2 }, // /dev/dri/card0
  { op: 'open', path: 5, flags: 2 }, // sw_sync
  { op: 'memfd', size: 8192, seals: 2, flags: 2 }, // MFD_ALLOW_SEALING, then F_SEAL_SHRINK
  { op: 'heapAlloc', heap: 0, len: 8192, fdFlags: 1, heapFlags: 0, v: 'valid', noise: none },
  { op: 'udmabuf', memfd: 0, offset: 0, size: 4096, flags: 0, list: 0, v: 'valid', noise: none },
  { op: 'drm', which: 0, handle: 0, fd: 0, w: 64, h: 64, bpp: 32, v: 'valid', noise: none },
  { op: 'timeline', tl: 0, which: 0, value: 1, name: 'f', v: 'valid', noise: none },
];

/** A sequence: some of SETUP, then operations, `maxOps` at most in all. */
export function sequenceArb(maxOps: number): fc.Arbitrary<DiffOp[]> {
  const setup = fc.tuple(...SETUP.map((o) => fc.option(fc.constant(o), { freq: 10 })));
  return fc.tuple(setup, fc.array(diffOpArb, { maxLength: maxOps, size: 'max' }))
    .map(([s, ops]) => [...s.filter((o): o is DiffOp => o !== null), ...ops].slice(0, maxOps));
}
