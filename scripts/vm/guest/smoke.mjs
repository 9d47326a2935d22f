// The test bed's smoke program, run in each guest kernel with node's test
// runner (`node --test scripts/vm/guest/smoke.mjs`): node itself, both CPUs,
// which DMA-BUF device nodes exist (checked against the kernel's expectations
// in DMABUF_VM_EXPECT, set from scripts/vm/suites.json), a worker thread, a
// child process, and one real ioctl: a system-heap allocation mapped and
// touched through koffi when the koffi package is installed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { release } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as L from './libc.mjs';

const { libc } = L;
const expect = JSON.parse(process.env.DMABUF_VM_EXPECT || '{}');

/** A path, or the first of a glob's matches (only a trailing `*` is a glob). */
function present(path) {
  if (!path.endsWith('*')) return existsSync(path);
  const dir = path.slice(0, path.lastIndexOf('/'));
  const prefix = path.slice(dir.length + 1, -1);
  return existsSync(dir) && readdirSync(dir).some((n) => n.startsWith(prefix));
}

const PATHS = {
  '/dev/dma_heap/system': 'system heap',
  '/dev/dma_heap/reserved': 'CMA heap',
  '/dev/udmabuf': 'udmabuf',
  '/dev/dri/card*': 'vgem card',
  '/dev/dri/renderD*': 'vgem render node',
  '/sys/kernel/debug/sync/sw_sync': 'sw_sync',
  '/sys/kernel/dmabuf/buffers': 'sysfs stats',
};
const has = Object.fromEntries(Object.keys(PATHS).map((p) => [p, present(p)]));
// One line the host's summary reads: what this kernel has.
console.log(`vm-has: ${JSON.stringify(has)}`);

test(`node ${process.version} runs on Linux ${release()}`, () => {
  assert.equal(process.platform, 'linux');
});

test('the guest has the two CPUs qemu gives it (nproc)', () => {
  const want = Number(process.env.DMABUF_VM_CPUS || 2);
  assert.equal(Number(execFileSync('nproc', { encoding: 'utf8' }).trim()), want);
});

for (const [path, what] of Object.entries(PATHS)) {
  const wanted = expect[path];
  test(`${what}: ${path} is ${has[path] ? 'present' : 'absent'}`, { skip: wanted === undefined && 'no expectation for this kernel' }, () => {
    assert.equal(has[path], wanted, `${path} should be ${wanted ? 'present' : 'absent'} on this kernel`);
  });
}

test('a worker thread starts and answers', async () => {
  const w = new Worker(`require('node:worker_threads').parentPort.postMessage(6 * 7)`, { eval: true });
  try {
    const answer = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer from the worker in 30 s')), 30000);
      w.once('message', (m) => (clearTimeout(timer), resolve(m)));
      w.once('error', (e) => (clearTimeout(timer), reject(e)));
    });
    assert.equal(answer, 42);
  } finally {
    await w.terminate();
  }
});

test('a child process spawns with piped stdio (socketpair)', () => {
  const r = spawnSync('sh', ['-c', 'echo child $$'], { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.error, undefined);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^child \d+\n$/);
});

/** Allocates from a heap, maps the buffer, writes under DMA_BUF_IOCTL_SYNC, maps again and reads back. */
function heapRoundTrip(heapPath) {
  const size = 2 * 4096;
  const heap = libc.open(heapPath, L.O_RDWR | L.O_CLOEXEC);
  assert.ok(heap >= 0, `open ${heapPath}: ${libc.errno()}`);
  let buf = -1;
  try {
    const data = Buffer.alloc(24);
    data.writeBigUInt64LE(BigInt(size), 0);
    data.writeUInt32LE(L.O_RDWR | L.O_CLOEXEC, 12);
    assert.equal(libc.ioctl(heap, L.DMA_HEAP_IOCTL_ALLOC, data), 0, `DMA_HEAP_IOCTL_ALLOC: ${libc.errno()}`);
    buf = data.readUInt32LE(8);
    assert.ok(buf > 2, `the heap returned fd ${buf}`);

    const sync = (flags) => {
      const arg = Buffer.alloc(8);
      arg.writeBigUInt64LE(BigInt(flags));
      assert.equal(libc.ioctl(buf, L.DMA_BUF_IOCTL_SYNC, arg), 0, `DMA_BUF_IOCTL_SYNC: ${libc.errno()}`);
    };
    const withMapping = (fn) => {
      const ptr = libc.mmap(null, size, L.PROT_READ | L.PROT_WRITE, L.MAP_SHARED, buf, 0);
      assert.ok(!libc.failed(ptr), `mmap: ${libc.errno()}`);
      try {
        // No use of the view may outlive munmap: reading unmapped pages kills the process.
        return fn(new Uint8Array(libc.koffi.view(ptr, size)));
      } finally {
        assert.equal(libc.munmap(ptr, size), 0, `munmap: ${libc.errno()}`);
      }
    };
    withMapping((bytes) => {
      sync(L.DMA_BUF_SYNC_START | L.DMA_BUF_SYNC_WRITE);
      assert.equal(bytes[0], 0, 'a fresh heap buffer reads as zeros');
      bytes[0] = 0xa5;
      bytes[size - 1] = 0x5a;
      sync(L.DMA_BUF_SYNC_END | L.DMA_BUF_SYNC_WRITE);
    });
    // A second mapping sees the bytes: they live in the buffer, not in a private copy.
    const seen = withMapping((bytes) => {
      sync(L.DMA_BUF_SYNC_START | L.DMA_BUF_SYNC_READ);
      const v = [bytes[0], bytes[size - 1]];
      sync(L.DMA_BUF_SYNC_END | L.DMA_BUF_SYNC_READ);
      return v;
    });
    assert.deepEqual(seen, [0xa5, 0x5a]);
  } finally {
    if (buf >= 0) assert.equal(libc.close(buf), 0);
    assert.equal(libc.close(heap), 0);
  }
}

const noKoffi = !libc && 'the koffi package is not installed';

test('DMA_HEAP_IOCTL_ALLOC on /dev/dma_heap/system, mmap, write and read back, munmap, close (koffi)', { skip: noKoffi || (!has['/dev/dma_heap/system'] && 'no system heap') }, () => {
  heapRoundTrip('/dev/dma_heap/system');
});

test('the same on the CMA heap, /dev/dma_heap/reserved (koffi)', { skip: noKoffi || (!has['/dev/dma_heap/reserved'] && 'no CMA heap on this kernel') }, () => {
  heapRoundTrip('/dev/dma_heap/reserved');
});
