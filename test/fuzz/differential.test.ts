/**
 * The differential fuzzer's machinery, without a real kernel: sequences run
 * on two emulators must agree; with a fault injected into one side (a
 * process whose heap allocations report a longer buffer than they made),
 * fast-check must find the divergence, shrink it to the two operations it
 * needs, and print a differential program that compiles and, run on the two
 * sides, records what the fuzzer recorded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import ts from 'typescript';
import fc from 'fast-check';
import * as u from '../../src/uapi/index.js';
import { boot } from '../../src/machine/boot.js';
import type { ProcessLike } from '../../src/machine/process-api.js';
import { Recorder } from '../differential/recorder.js';
import { makeEnv } from '../differential/env.js';
import { normalize } from '../differential/normalize.js';
import { runDifferential, programText, PROGRAM_PRELUDE } from './differential/run.js';
import { absentPaths, emulatorSide, EMULATOR_FEATURES } from './differential/sides.js';
import { SETUP, sequenceArb } from './differential/vocabulary.js';

/** A process whose DMA_HEAP_IOCTL_ALLOC answers say the buffer is a page longer than asked. */
const lying = (proc: ProcessLike): ProcessLike => new Proxy(proc, {
  get(target, key) {
    if (key === 'ioctl') {
      return (fd: number, request: number, arg?: Uint8Array | number): number => {
        const ret = target.ioctl(fd, request, arg);
        if (request === u.DMA_HEAP_IOCTL_ALLOC && arg instanceof Uint8Array) {
          u.dma_heap_allocation_data.set(arg, 'len', u.dma_heap_allocation_data.get(arg, 'len') + 4096n);
        }
        return ret;
      };
    }
    const v = Reflect.get(target, key, target);
    return typeof v === 'function' ? v.bind(target) : v;
  },
});

test('sequences: up to --max-ops operations, mostly starting with the setup; generated again from the same seed', () => {
  const a = fc.sample(sequenceArb(20), { seed: 42, numRuns: 50 });
  const b = fc.sample(sequenceArb(20), { seed: 42, numRuns: 50 });
  assert.deepEqual(a, b);
  assert.ok(a.every((s) => s.length <= 20));
  assert.ok(a.some((s) => s.length >= 15), 'long sequences are generated');
  assert.ok(a.filter((s) => s[0]?.op === SETUP[0].op).length > 25, 'most start with the setup');
  assert.ok(a.flat().every((o) => !['send', 'receive', 'exit'].includes(o.op)), 'no fd passing, no exit');
  assert.ok(a.flat().every((o) => o.op !== 'poll' || o.timeout === 0), 'no poll waits');
});

test('the emulator against itself: every sequence agrees, nothing is left behind', async () => {
  const left = emulatorSide(EMULATOR_FEATURES, { recycle: 10 });
  const right = emulatorSide(EMULATOR_FEATURES, { recycle: 10, name: 'emulator (second)' });
  try {
    const r = await runDifferential({ left, right, sequences: 25, seed: 20261201, maxOps: 50, absent: absentPaths(EMULATOR_FEATURES) });
    assert.deepEqual(r.findings.map((f) => f.diff || f.error), []);
    assert.equal(r.sequences, 25);
    assert.ok(r.operations > 25 * 10, `${r.operations} operations`);
  } finally {
    for (const side of [left, right]) {
      const { left: held, warnings } = await side.close();
      assert.deepEqual(Object.entries(held).filter(([, v]) => v !== 0), [], `${side.name} holds nothing at shutdown`);
      assert.deepEqual(warnings, []);
    }
  }
});

test('an injected divergence is found, shrunk to the two operations it needs, and printed as a program that compiles and reproduces it', async () => {
  const left = emulatorSide(EMULATOR_FEATURES);
  const right = emulatorSide(EMULATOR_FEATURES, { wrap: lying, name: 'liar' });
  let finding;
  try {
    const r = await runDifferential({ left, right, sequences: 20, seed: 7, maxOps: 50, absent: absentPaths(EMULATOR_FEATURES) });
    assert.equal(r.findings.length, 1);
    finding = r.findings[0];
  } finally {
    await left.close();
    await right.close();
  }
  assert.equal(finding.error, null);
  assert.equal(finding.reproduced, true);
  // The smallest sequence that allocates: open a heap, allocate.
  assert.deepEqual(finding.ops.map((o) => o.op), ['open', 'heapAlloc']);
  assert.match(finding.divergence!.left!, /^ {2}→ \{len=(\d+), fd=fd#2/);
  assert.notEqual(finding.divergence!.left, finding.divergence!.right);
  assert.match(finding.diff, /^- {3}→ \{len=/m);
  assert.match(finding.diff, /^\+ {3}→ \{len=/m);

  // The printed program is a function for test/differential/programs/fuzz.ts, whose prelude it needs.
  const fuzzTs = readFileSync(fileURLToPath(new URL('../../../test/differential/programs/fuzz.ts', import.meta.url)), 'utf8');
  for (const line of PROGRAM_PRELUDE.filter((l) => l.startsWith('const '))) assert.ok(fuzzTs.includes(line), `programs/fuzz.ts has ${line}`);
  assert.match(finding.program, /^export function seed7\(r: Recorder, env: Env\): void \{$/m);

  // It type-checks as a module of test/differential/programs/ (a file that exists only in memory).
  const module = programText(finding.program.split('\n').slice(finding.program.split('\n').findIndex((l) => l.startsWith('export function')) + 1, -2).map((l) => l.slice(2)), { name: 'found', seed: 7, divergence: finding.divergence, left: 'emulator', right: 'liar', module: true });
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const file = join(root, 'test/differential/programs/__found.ts');
  const options: ts.CompilerOptions = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, noEmit: true, skipLibCheck: true, types: ['node'] };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (name === file ? ts.createSourceFile(name, module, lang) : getSourceFile(name, lang, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (name === file ? module : readFile(name));
  const program = ts.createProgram([file], options, host);
  const source = program.getSourceFile(file)!;
  const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
  assert.deepEqual(diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')), [], 'the program type-checks');

  // Run it (transpiled next to the compiled programs) on a plain process and on a lying one: the fuzzer's recordings.
  const js = ts.transpileModule(module, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 } }).outputText;
  const out = fileURLToPath(new URL(`../differential/programs/__found-${process.pid}.js`, import.meta.url));
  writeFileSync(out, js);
  const machine = await boot();
  try {
    const { found } = (await import(pathToFileURL(out).href)) as { found: (r: Recorder, env: ReturnType<typeof makeEnv>) => void };
    const record = (wrap: (p: ProcessLike) => ProcessLike): string[] => {
      const proc = machine.spawn(EMULATOR_FEATURES.comm);
      const r = new Recorder(wrap(proc), 'emulator');
      found(r, makeEnv(EMULATOR_FEATURES));
      r.finish();
      proc.exit();
      return normalize(r.lines);
    };
    assert.deepEqual(record((p) => p), finding.left);
    assert.deepEqual(record(lying), finding.right);
  } finally {
    rmSync(out, { force: true });
    const left = await machine.shutdown();
    assert.deepEqual(Object.entries(left).filter(([, v]) => v !== 0), []);
  }
});
