/**
 * `npm run soak -- --minutes N`: the demo pipeline and the ABI fuzzer at
 * once, over and over, on one machine for N minutes. At each minute both
 * pause at a quiescent point and the machine is sampled: its pages and
 * dma-bufs (must be 0 with nothing running), fences, the kernel thread's
 * heap and this thread's heap after a full collection.
 *
 * Limits: after warm-up (the first 5 minutes; a tenth of a shorter run)
 * the heaps may grow at most 5%, the median of the next 10 minutes against
 * the median of the last 10 (a sixth of a shorter run each): single samples
 * carry GC noise of a few percent, and a median of three still swung by
 * ±4% in an hour's run. Over the second half of the run neither may
 * trend upwards: the slope of a least-squares line through those minutes'
 * samples is at most 1% of their mean per 10 minutes.
 *
 * Memory: the fuzzer allocates buffers of any size the machine can hold
 * (a random 32-bit length is 2 GiB or more half the time) and at moments
 * holds nearly all of the machine's memory. A pipeline run that cannot get
 * its ring then fails with ENOMEM, as it would on Linux: that run is
 * counted (with how full the machine was just after), not a failure of the
 * soak, and the soak goes on. A leak would show at the quiescent samples,
 * which must hold no page. Any other pipeline error is a finding; none ends
 * the soak.
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

/** The pipeline of every run: frames of 640x360 RGBA, a ring of 3. */
const PIPELINE = { frames: 60, width: 640, height: 360, ring: 3, workers: 1 };
/** The machine's memory: the default sizes, named here for the report of how full it was */
const MEMORY = { normalBytes: 2 * 2 ** 30, dma32Bytes: 256 * 2 ** 20, cmaBytes: 64 * 2 ** 20 };
const TOTAL_PAGES = (MEMORY.normalBytes + MEMORY.dma32Bytes + MEMORY.cmaBytes) / 4096;

const machine = await boot({ memory: MEMORY });
console.log(`soak: the pipeline demo and the fuzzer together on one machine for ${minutes} min, sampled each minute at a quiescent point`);
console.log('minute  pipeline frames  ENOMEM runs  fuzz syscalls  pages  dma-bufs  fences  kernel heap  main heap');
const t0 = performance.now();
const samples: { minute: number; kernel: number; main: number }[] = [];
let frames = 0;
let syscalls = 0;
let seed = 1;
/** pipeline runs refused memory: when, and how much of the machine was in use just after */
const enomem: { minute: number; usedPages: number }[] = [];
const problems: string[] = [];
for (let minute = 1; minute <= minutes; minute++) {
  const until = t0 + minute * 60_000;
  const pipeline = (async () => {
    while (performance.now() < until) {
      try {
        await runPipeline({ ...PIPELINE, machine });
        frames += PIPELINE.frames;
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        if (/ENOMEM/.test(message)) {
          // Short of memory for the ring: the fuzzer holds the machine's memory (how much is left is
          // reported; the quiescent samples show whether anything leaked).
          const { pages } = await machine.stats();
          enomem.push({ minute, usedPages: pages });
        } else {
          problems.push(`minute ${minute}: the pipeline failed: ${message}`);
        }
        // Let the fuzzer's next agents run before the next try.
        await new Promise((r) => setTimeout(r, 100));
      }
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
  samples.push({ minute, kernel, main });
  if (s.pages || s.dmabufs || s.fences || s.inFlight || s.taint) problems.push(`minute ${minute}: the quiescent machine holds ${JSON.stringify(s)}`);
  const mb = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
  const refused = enomem.filter((x) => x.minute === minute).length;
  console.log(`${String(minute).padStart(6)}  ${String(frames).padStart(15)}  ${String(refused).padStart(11)}  ${String(syscalls).padStart(13)}  ${String(s.pages).padStart(5)}  ${String(s.dmabufs).padStart(8)}  ${String(s.fences).padStart(6)}  ${mb(kernel).padStart(11)}  ${mb(main).padStart(9)}`);
}
const warn = (await machine.dmesg()).split('\n').filter((l) => /WARNING|BUG/.test(l));
const left = await machine.shutdown();

// A full collection still leaves a few percent of noise (compiled code, caches): compare the
// medians of two windows of samples (see the limits above).
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const warmup = Math.min(5, Math.max(1, Math.floor(minutes / 10)));
const window = Math.min(10, Math.max(3, Math.floor(minutes / 6)));
const after = samples.filter((x) => x.minute > warmup);
const head = after.length ? after.slice(0, window) : samples;
const tail = after.length ? after.slice(-window) : samples;
type Heap = 'kernel' | 'main';
const growth = (k: Heap): number => {
  const a = median(head.map((x) => x[k]));
  return (median(tail.map((x) => x[k])) - a) / a;
};
/** The least-squares slope over the second half of the run, as a fraction of its mean per 10 minutes (0 with fewer than 3 samples). */
const trend = (k: Heap): number => {
  const half = samples.filter((x) => x.minute >= minutes / 2);
  if (half.length < 3) return 0;
  const mx = half.reduce((s, x) => s + x.minute, 0) / half.length;
  const my = half.reduce((s, x) => s + x[k], 0) / half.length;
  const num = half.reduce((s, x) => s + (x.minute - mx) * (x[k] - my), 0);
  const den = half.reduce((s, x) => s + (x.minute - mx) ** 2, 0);
  return ((num / den) * 10) / my;
};
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
console.log(`\nheap growth after ${warmup} minutes of warm-up (median of the next ${window} samples to median of the last ${window}): kernel ${pct(growth('kernel'))}, main ${pct(growth('main'))} (limit 5%)`);
console.log(`heap trend over minutes ${Math.ceil(minutes / 2)}-${minutes} (least-squares slope per 10 min): kernel ${pct(trend('kernel'))}, main ${pct(trend('main'))} (limit 1%)`);
const fullest = enomem.length ? Math.max(...enomem.map((x) => x.usedPages)) : 0;
console.log(`pipeline runs refused memory (ENOMEM while the fuzzer held the machine's memory): ${enomem.length}${enomem.length ? `, the machine ${pct(Math.min(...enomem.map((x) => x.usedPages)) / TOTAL_PAGES)}-${pct(fullest / TOTAL_PAGES)} full just after` : ''}`);
console.log(`kernel warnings: ${warn.length}; findings: ${problems.length}; after shutdown: ${JSON.stringify(left)}`);
for (const p of [...problems, ...warn].slice(0, 20)) console.log(`  ${p}`);
const heapBad = (['kernel', 'main'] as const).some((k) => growth(k) > 0.05 || trend(k) > 0.01);
const bad = problems.length || warn.length || heapBad || left.dmabufs || left.pages || left.taint;
process.exitCode = bad ? 1 : 0;
