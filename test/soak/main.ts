/**
 * `npm run soak -- --minutes N`: the demo pipeline and the ABI fuzzer at
 * once, over and over, on one machine for N minutes. At each minute both
 * pause at a quiescent point and the machine is sampled: its pages and
 * dma-bufs (must be 0 with nothing running), fences, the kernel thread's
 * heap and this thread's heap after a full collection. After the first
 * minute (warm-up) the heaps may grow at most 5% (median of minutes 2-4
 * against the median of the last three: single samples carry GC noise).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { boot } from '../../src/machine/boot.js';
import { runPipeline } from '../../src/cli/demo-pipeline.js';
import { runFuzz } from '../fuzz/fuzz.js';

const args = process.argv.slice(2);
const i = args.indexOf('--minutes');
const minutes = i >= 0 ? Number(args[i + 1]) : 10;
if (!(minutes > 0)) {
  console.error('soak: --minutes needs a positive number');
  process.exit(2);
}
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const machine = await boot();
console.log(`soak: the pipeline demo and the fuzzer together on one machine for ${minutes} min, sampled each minute at a quiescent point`);
console.log('minute  pipeline frames  fuzz syscalls  pages  dma-bufs  fences  kernel heap  main heap');
const t0 = performance.now();
const samples: { kernel: number; main: number }[] = [];
let frames = 0;
let syscalls = 0;
let seed = 1;
const problems: string[] = [];
for (let minute = 1; minute <= minutes; minute++) {
  const until = t0 + minute * 60_000;
  const pipeline = (async () => {
    while (performance.now() < until) {
      const r = await runPipeline({ frames: 60, width: 640, height: 360, ring: 3, workers: 1, machine });
      frames += 60;
      void r;
    }
  })();
  const fuzz = (async () => {
    while (performance.now() < until) {
      const r = await runFuzz({ processes: 3, syscalls: 15_000, seed: seed++, killsPerSecond: 1, perAgent: 3000, machine });
      syscalls += r.syscalls;
      if (r.findings.length) problems.push(...r.findings.slice(0, 5));
    }
  })();
  await Promise.all([pipeline, fuzz]);
  const s = await machine.stats();
  const kernel = await machine.kernelHeap();
  gc();
  const main = process.memoryUsage().heapUsed;
  samples.push({ kernel, main });
  if (s.pages || s.dmabufs || s.fences || s.inFlight || s.taint) problems.push(`minute ${minute}: the quiescent machine holds ${JSON.stringify(s)}`);
  const mb = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
  console.log(`${String(minute).padStart(6)}  ${String(frames).padStart(15)}  ${String(syscalls).padStart(13)}  ${String(s.pages).padStart(5)}  ${String(s.dmabufs).padStart(8)}  ${String(s.fences).padStart(6)}  ${mb(kernel).padStart(11)}  ${mb(main).padStart(9)}`);
}
const warn = (await machine.dmesg()).split('\n').filter((l) => /WARNING|BUG/.test(l));
const left = await machine.shutdown();
// A full collection still leaves a few percent of noise (compiled code, caches): compare the
// median of the first three samples after warm-up with the median of the last three.
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const after = samples.slice(1);
const head = after.length ? after.slice(0, 3) : samples;
const tail = after.length ? after.slice(-3) : samples;
const base = { kernel: median(head.map((x) => x.kernel)), main: median(head.map((x) => x.main)) };
const last = { kernel: median(tail.map((x) => x.kernel)), main: median(tail.map((x) => x.main)) };
const growth = (a: number, b: number): number => (b - a) / a;
console.log(`\nheap growth after warm-up (median of minutes 2-4 to median of the last three): kernel ${(growth(base.kernel, last.kernel) * 100).toFixed(1)}%, main ${(growth(base.main, last.main) * 100).toFixed(1)}% (limit 5%)`);
console.log(`kernel warnings: ${warn.length}; findings: ${problems.length}; after shutdown: ${JSON.stringify(left)}`);
for (const p of [...problems, ...warn].slice(0, 20)) console.log(`  ${p}`);
const bad = problems.length || warn.length || growth(base.kernel, last.kernel) > 0.05 || growth(base.main, last.main) > 0.05 || left.dmabufs || left.pages || left.taint;
process.exitCode = bad ? 1 : 0;
