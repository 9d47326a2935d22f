/**
 * How cost grows with the work, each as a curve:
 * - aggregate syscall throughput with 1, 2, 4 and 8 processes (worker
 *   threads) calling at once: every call goes through the one kernel
 *   thread, so the curve shows where it saturates; against its floor, the
 *   same number of threads calling a bare server thread doing the same
 *   work per call (what too few cores cost, measured in the same run);
 * - export (DMA_HEAP_IOCTL_ALLOC) + mmap + munmap + close of one 4 KiB
 *   buffer while 1, 1k, 10k and 100k buffers are alive, held by fds in four
 *   processes that raised RLIMIT_NOFILE as a Linux program would;
 * - reading bufinfo with those buffers: the time per listed buffer.
 * Each point is measured against the curve's first point (the same run).
 */
import { Worker } from 'node:worker_threads';
import { boot, type Machine, type Process } from '../src/index.js';
import * as u from '../src/uapi/index.js';
import { RLIMIT_NOFILE } from '../src/uapi/signal.js';
import type { Row } from './harness.js';

export const title = 'scaling: cost against the work';

const indexUrl = new URL('../src/index.js', import.meta.url).href;
const uapiUrl = new URL('../src/uapi/index.js', import.meta.url).href;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * `n` worker processes each calling lseek on a dma-buf back to back for
 * `ms` after a common start: the calls completed per second, all together.
 */
async function throughput(machine: Machine, n: number, ms: number): Promise<number> {
  const sab = new SharedArrayBuffer(8 + 8 * n);
  const go = new Int32Array(sab, 0, 2); // 0: started workers, 1: go
  const counts = new Float64Array(sab, 8, n);
  const workers = Array.from({ length: n }, (_, k) => {
    const handle = machine.channel(`tp${k}`);
    return new Worker(
      `const { attach } = await import(${JSON.stringify(indexUrl)});
       const u = await import(${JSON.stringify(uapiUrl)});
       const { workerData, parentPort } = await import('node:worker_threads');
       const proc = attach(workerData.handle);
       const go = new Int32Array(workerData.sab, 0, 2);
       const counts = new Float64Array(workerData.sab, 8, workerData.n);
       const heap = proc.open('/dev/dma_heap/system', u.O_RDWR);
       const arg = u.dma_heap_allocation_data.encode({ len: 4096, fd_flags: u.O_RDWR | u.O_CLOEXEC });
       proc.ioctl(heap, u.DMA_HEAP_IOCTL_ALLOC, arg);
       const fd = u.dma_heap_allocation_data.get(arg, 'fd');
       Atomics.add(go, 0, 1);
       Atomics.notify(go, 0);
       Atomics.wait(go, 1, 0);
       const until = performance.now() + workerData.ms;
       let c = 0;
       while (performance.now() < until) { for (let i = 0; i < 64; i++) proc.lseek(fd, 0, u.SEEK_SET); c += 64; }
       counts[workerData.k] = c;
       proc.close(fd); proc.close(heap); proc.exit();
       parentPort.postMessage('done');`,
      { eval: true, workerData: { handle, sab, n, k, ms }, transferList: [handle.port] } as never,
    );
  });
  try {
    while (Atomics.load(go, 0) < n) await new Promise((r) => setTimeout(r, 2));
    Atomics.store(go, 1, 1);
    Atomics.notify(go, 1);
    await Promise.all(workers.map((w) => new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    })));
    return (counts.reduce((a, b) => a + b, 0) * 1000) / ms;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * The floor of that curve on this machine: `n` threads calling one server
 * thread through shared memory, with no dmabuf at all, the callers waiting
 * as a Process does (spin up to 50 µs, then Atomics.wait) and the server
 * busy for `workUs` per call (the kernel thread's cost of one lseek). What
 * it loses from 1 to 8 callers is what spinning threads on too few cores
 * cost, before any of the machine's own work.
 */
async function serverFloor(n: number, workUs: number, ms: number): Promise<number> {
  const sab = new SharedArrayBuffer(64 + 64 * n);
  const w = new Int32Array(sab); // 0: stop, 1: started callers, 2: go; caller k at 16 + 16k: request, answer, waiting
  const code = `const { workerData, parentPort } = require('node:worker_threads');
    const { role, sab, n, k, ms, work } = workerData;
    const w = new Int32Array(sab);
    if (role === 'server') {
      while (Atomics.load(w, 0) === 0) for (let i = 0; i < n; i++) {
        const b = 16 + 16 * i, r = Atomics.load(w, b);
        if (r === Atomics.load(w, b + 1)) continue;
        const t = performance.now();
        while (performance.now() - t < work) {}
        Atomics.store(w, b + 1, r);
        if (Atomics.load(w, b + 2)) Atomics.notify(w, b + 1);
      }
      parentPort.postMessage(0);
    } else {
      const b = 16 + 16 * k;
      let seq = 0, c = 0;
      Atomics.add(w, 1, 1);
      while (Atomics.load(w, 2) === 0) Atomics.wait(w, 2, 0, 10);
      const until = performance.now() + ms;
      while (performance.now() < until) {
        for (let j = 0; j < 64; j++) {
          Atomics.store(w, b, ++seq);
          const t = performance.now();
          for (let i = 1; Atomics.load(w, b + 1) !== seq; i++) {
            if ((i & 63) !== 0 || performance.now() - t < 0.05) continue;
            Atomics.store(w, b + 2, 1);
            for (let cur = Atomics.load(w, b + 1); cur !== seq; cur = Atomics.load(w, b + 1)) Atomics.wait(w, b + 1, cur);
            Atomics.store(w, b + 2, 0);
          }
        }
        c += 64;
      }
      parentPort.postMessage(c);
    }`;
  const server = new Worker(code, { eval: true, workerData: { role: 'server', sab, n, work: workUs / 1000 } });
  const callers = Array.from({ length: n }, (_, k) => new Worker(code, { eval: true, workerData: { role: 'caller', sab, n, k, ms } }));
  try {
    while (Atomics.load(w, 1) < n) await new Promise((r) => setTimeout(r, 2));
    Atomics.store(w, 2, 1);
    Atomics.notify(w, 2);
    const counts = await Promise.all(callers.map((c) => new Promise<number>((resolve, reject) => {
      c.once('message', resolve);
      c.once('error', reject);
    })));
    return (counts.reduce((a, b) => a + b, 0) * 1000) / ms;
  } finally {
    Atomics.store(w, 0, 1);
    await Promise.all([server, ...callers].map((t) => t.terminate()));
  }
}

function allocate(proc: Process, heap: number): number {
  const arg = u.dma_heap_allocation_data.encode({ len: 4096, fd_flags: u.O_RDWR | u.O_CLOEXEC });
  proc.ioctl(heap, u.DMA_HEAP_IOCTL_ALLOC, arg);
  return u.dma_heap_allocation_data.get(arg, 'fd');
}

/** µs per export + mmap + munmap + close of a 4 KiB buffer (median of `rounds` batches of `batch`). */
function cycleUs(proc: Process, heap: number, rounds: number, batch: number): number {
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) {
      const fd = allocate(proc, heap);
      const view = proc.mmap(4096, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0);
      proc.munmap(view);
      proc.close(fd);
    }
    times.push(((performance.now() - t0) * 1000) / batch);
  }
  return median(times);
}

export async function run(): Promise<Row[]> {
  const rows: Row[] = [];
  const machine = await boot();
  try {
    // 1. Throughput against the processes calling at once.
    const curve: [number, number][] = [];
    for (const n of [1, 2, 4, 8]) curve.push([n, Math.max(await throughput(machine, n, 300), await throughput(machine, n, 300))]);
    const one = curve[0][1];
    const workUs = 1e6 / one;
    const floor1 = Math.max(await serverFloor(1, workUs, 300), await serverFloor(1, workUs, 300));
    const floor8 = Math.max(await serverFloor(8, workUs, 300), await serverFloor(8, workUs, 300));
    for (const [n, v] of curve) {
      rows.push({
        name: `syscall throughput, ${n} process${n > 1 ? 'es' : ''} calling at once (lseek)`, value: v, unit: 'calls/s', baseline: { name: '1 process', value: one },
        ratio: v / one, ...(n === 8 ? { target: '≥ 0.8x', pass: v >= 0.8 * one, note: `floor ${(floor8 / floor1).toFixed(2)}x` } : {}),
      });
    }
    rows.push({
      name: `floor: 8 threads calling one server thread busy ${workUs.toFixed(1)} µs per call (no dmabuf)`, value: floor8, unit: 'calls/s',
      baseline: { name: '1 thread calling', value: floor1 }, ratio: floor8 / floor1,
    });

    // 2 and 3. Export + mmap + close, and bufinfo, with live buffers spread over four processes.
    const holders = Array.from({ length: 4 }, (_, k) => machine.spawn(`holder${k}`));
    for (const h of holders) h.setrlimit(RLIMIT_NOFILE, { cur: 100_000, max: 1_048_576 });
    const heaps = holders.map((h) => h.open('/dev/dma_heap/system', u.O_RDWR));
    const proc = machine.spawn('bench');
    const heap = proc.open('/dev/dma_heap/system', u.O_RDWR);
    const held: number[][] = holders.map(() => []);
    let live = 0;
    const grow = (to: number): void => {
      for (; live < to; live++) held[live % 4].push(allocate(holders[live % 4], heaps[live % 4]));
    };
    let base = 0;
    let basePer = 0;
    for (const n of [1, 1000, 10_000, 100_000]) {
      grow(n);
      const us = cycleUs(proc, heap, 7, 300);
      if (n === 1) base = us;
      rows.push({
        name: `export + mmap + munmap + close (4 KiB), ${n.toLocaleString('en')} live buffer${n > 1 ? 's' : ''}`, value: us, unit: 'µs', baseline: { name: '1 live buffer', value: base },
        ratio: us / base, ...(n > 1 ? { target: '≤ 2x', pass: us <= 2 * base } : {}),
      });
      if (n >= 1000) {
        const times: number[] = [];
        for (let r = 0; r < 3; r++) {
          const t0 = performance.now();
          const text = proc.readFile('/sys/kernel/debug/dma_buf/bufinfo');
          times.push(performance.now() - t0);
          if (!text.includes(`Total ${n} objects`)) throw new Error(`bufinfo does not list ${n} buffers`);
        }
        const per = (median(times) * 1000) / n;
        if (n === 1000) basePer = per;
        rows.push({
          name: `bufinfo read, ${n.toLocaleString('en')} buffers: time per listed buffer`, value: per, unit: 'µs', baseline: { name: '1,000 buffers', value: basePer },
          ratio: per / basePer, ...(n > 1000 ? { target: '≤ 2x (linear)', pass: per <= 2 * basePer } : {}), note: `${median(times).toFixed(1)} ms in all`,
        });
      }
    }
    for (const [k, fds] of held.entries()) for (const fd of fds) holders[k].close(fd);
    for (const [k, h] of holders.entries()) {
      h.close(heaps[k]);
      h.exit();
    }
    proc.close(heap);
    proc.exit();
  } finally {
    const left = await machine.shutdown();
    if (left.dmabufs || left.pages) throw new Error(`the scaling bench leaked: ${JSON.stringify(left)}`);
  }
  return rows;
}
