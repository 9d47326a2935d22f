/**
 * `npm run fuzz -- --differential [--sequences N] [--seed S] [--max-ops 50]
 * [--keep-going] [--survey] [--kernel stock|built] [--recycle N]
 * [--against linux|emulator]`: the differential fuzzer (run.ts) against the
 * host's kernel through the native backend (against the emulator itself
 * with `--against emulator`, to try the machinery). The differences
 * docs/linux-differences.md lists pass (`--kernel`, default
 * $DMABUF_VM_KERNEL, selects the entries of one kernel). Prints the rate,
 * each divergence's minimal program and the recordings' difference
 * (--survey: no shrinking, each kind of divergence counted). Exits 0 when
 * the sides agreed, 1 on a divergence or a leak, 2 when the native backend
 * cannot run here.
 */
import { existsSync, writeSync } from 'node:fs';
import { release } from 'node:os';
import { absentPaths, emulatorWorkerSide, EMULATOR_FEATURES, nativeSide, type Side } from './sides.js';
import { allowListCompare, runDifferential, type Compare } from './run.js';
import { loadAllowList } from '../../differential/compare.js';

/** A line on stdout at once (console.log's pipe writes are asynchronous: a hang would swallow them). */
const say = (s = ''): void => {
  writeSync(1, `${s}\n`);
};

export async function differentialMain(args: string[]): Promise<number> {
  const opt = (name: string, def: number): number => {
    const i = args.indexOf(`--${name}`);
    if (i < 0) return def;
    const v = Number(args[i + 1]);
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`--${name} takes a non-negative integer, not '${args[i + 1]}'`);
    return v;
  };
  const sequences = opt('sequences', 1000);
  const seed = opt('seed', Date.now() % 1_000_000);
  const maxOps = opt('max-ops', 50);
  const recycle = opt('recycle', 100);
  const keepGoing = args.includes('--keep-going');
  const survey = args.includes('--survey');
  const against = args.includes('--against') ? args[args.indexOf('--against') + 1] : 'linux';
  if (against !== 'linux' && against !== 'emulator') throw new Error(`--against takes linux or emulator, not '${against}'`);

  let left: Side;
  let right: Side;
  let compare: Compare | undefined;
  const ki = args.indexOf('--kernel');
  const kernel = ki >= 0 ? args[ki + 1] : process.env.DMABUF_VM_KERNEL || null;
  let absent = absentPaths(EMULATOR_FEATURES);
  if (against === 'linux') {
    const why = nativeUnavailable();
    if (why) {
      say(`differential fuzz: the native backend cannot run here (${why}); it compares the emulator with a real kernel that has /dev/dma_heap (npm run test:linux runs it in a VM)`);
      return 2;
    }
    const native = await nativeSide();
    const f = native.features;
    right = native.side;
    absent = absentPaths(f);
    left = emulatorWorkerSide(f, { recycle });
    compare = allowListCompare(loadAllowList(), kernel);
    say(`differential fuzz: the emulator against Linux ${release()}: CMA heap ${f.cmaHeap ? `${f.cmaHeap}, ${f.cmaBytes >> 20} MiB` : 'none'}, sw_sync ${f.swSync ? 'yes' : 'no'}, sysfs stats ${f.sysfsStats ? 'yes' : 'no'}, vgem ${f.vgemCard ?? 'none'}`);
  } else {
    left = emulatorWorkerSide(EMULATOR_FEATURES, { recycle, name: 'emulator' });
    right = emulatorWorkerSide(EMULATOR_FEATURES, { recycle, name: 'emulator (second machine)' });
    say('differential fuzz: the emulator against a second emulator (the machinery only)');
  }
  say(`${sequences} sequences of up to ${maxOps} operations, seed ${seed}${keepGoing ? ', going on after a divergence' : ''}`);
  let failed = false;
  try {
    const r = await runDifferential({ left, right, sequences, seed, maxOps, keepGoing, survey, absent, compare, log: say });
    say(`\n${r.sequences} sequences (${r.operations} operations) in ${r.seconds.toFixed(1)} s: ${(r.sequences / r.seconds).toFixed(2)} sequences/s, ${Math.round(r.operations / r.seconds)} operations/s; ${r.shrinkRuns} more while shrinking`);
    if (survey) {
      say(`kinds of divergence: ${r.kinds.length} (in ${r.kinds.reduce((n, k) => n + k.count, 0)} sequences)`);
      for (const k of r.kinds) say(`\n=== ${k.count} sequences, first #${k.first}\n${k.diff}`);
      if (r.kinds.length) failed = true;
    }
    say(`divergences: ${r.findings.length}`);
    for (const [i, f] of r.findings.entries()) {
      failed = true;
      say(`\n=== divergence ${i + 1}: ${f.ops.length} operations after ${f.shrinks} shrinking steps (seed ${f.seed})`);
      if (f.error) say(`the run failed: ${f.error}`);
      if (!f.error && !f.reproduced) say('not reproduced when the minimal sequence ran once more: the recordings below are of the last run that diverged');
      if (f.diff) say(`\n${f.diff}`);
      if (f.program) say(`\n--- program (test/differential/programs/):\n${f.program}`);
    }
  } finally {
    for (const side of [left, right]) {
      const { left: held, warnings } = await side.close();
      const nonzero = Object.entries(held).filter(([, v]) => v !== 0);
      say(`${side.name}: at shutdown held ${nonzero.length ? nonzero.map(([k, v]) => `${k} ${v}`).join(', ') : 'nothing'}${warnings.length ? `; kernel warnings:\n  ${warnings.join('\n  ')}` : ''}`);
      if (nonzero.length || warnings.length) failed = true;
    }
  }
  return failed ? 1 : 0;
}

/** Why the native backend cannot run the differential fuzz here, or null. */
function nativeUnavailable(): string | null {
  if (process.platform !== 'linux') return `platform ${process.platform}`;
  if (!existsSync('/dev/dma_heap')) return 'no /dev/dma_heap';
  try {
    // koffi is an optional dependency: without it, no native backend
    require_('koffi');
  } catch {
    return 'the koffi package is not installed';
  }
  return null;
}

import { createRequire } from 'node:module';
const require_ = createRequire(import.meta.url);
