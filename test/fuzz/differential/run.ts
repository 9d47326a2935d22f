/**
 * The differential fuzzer: sequences of operations (vocabulary.ts), each run
 * on a fresh process of two sides (the emulator and the real kernel through
 * the native backend; or, to test the machinery, two emulators), recorded
 * and normalised; the property is that both recordings agree, up to the
 * differences the project lists as known. fast-check generates the
 * sequences from a seed and, when one disagrees, shrinks it to a minimal
 * one, which is then printed as a differential program and with the two
 * recordings' difference.
 */
import fc from 'fast-check';
import { normalize } from '../../differential/normalize.js';
import { compareRecordings, type Allowed } from '../../differential/compare.js';
import { sequenceArb, type DiffOp } from './vocabulary.js';
import type { Side } from './sides.js';

/** Where two normalised recordings first differ: the lines' indexes on each side, and the lines (a missing line is undefined). */
export interface Divergence {
  index: number;
  rightIndex?: number;
  left: string | undefined;
  right: string | undefined;
}

/** Compares two normalised recordings: the first divergence that is not a known difference, or null. */
export type Compare = (left: readonly string[], right: readonly string[]) => Divergence | null;

/**
 * The runner's comparison (test/differential/compare.ts: an LCS diff, the
 * differences docs/linux-differences.md lists pass) of a sequence recorded
 * as the program `program`: only the list's entries whose program pattern
 * matches it apply (`.` and `^fuzz/` ones, not those of a named program).
 */
export function allowListCompare(allowList: readonly Allowed[], kernel: string | null, program = 'fuzz/sequence'): Compare {
  return (a, b) => {
    const c = compareRecordings(program, a, b, allowList, kernel);
    if (c.status !== 'differs') return null;
    const d = c.differences.find((x) => !x.listed)!;
    return { index: d.emulatorLine - 1, rightIndex: d.linuxLine - 1, left: d.emulator ?? undefined, right: d.linux ?? undefined };
  };
}

/** Line by line, nothing allowed. */
export const exactCompare: Compare = (a, b) => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return { index: i, left: a[i], right: b[i] };
  return null;
};

export interface DifferentialOptions {
  left: Side;
  right: Side;
  /** sequences to generate (shrinking runs come on top) */
  sequences: number;
  seed: number;
  /** operations per sequence at most */
  maxOps: number;
  compare?: Compare;
  /** after a divergence, go on with the remaining sequences (a divergence like one already found counts as agreement) */
  keepGoing?: boolean;
  /** no shrinking: count each kind of divergence (signature()) over all the sequences, with its first example */
  survey?: boolean;
  /** paths that name nothing on the compared kernel (see ExecutorOptions.absent) */
  absent?: readonly string[];
  log?: (s: string) => void;
}

/** A divergence, shrunk. */
export interface Finding {
  /** the minimal sequence */
  ops: DiffOp[];
  divergence: Divergence | null;
  /** what went wrong instead, when the run failed rather than diverged */
  error: string | null;
  /** the differential program for the minimal sequence */
  program: string;
  /** the two recordings around the first divergence */
  diff: string;
  left: string[];
  right: string[];
  /** fast-check's random seed of the run that found it */
  seed: number;
  shrinks: number;
  /** whether running the minimal sequence once more diverged again (if not, the recordings are the last run's that did) */
  reproduced: boolean;
}

export interface DifferentialResult {
  /** sequences generated and run on both sides (shrinking runs not counted) */
  sequences: number;
  operations: number;
  /** sequences run while shrinking */
  shrinkRuns: number;
  findings: Finding[];
  /** survey: each kind of divergence, most frequent first */
  kinds: SurveyKind[];
  seconds: number;
}

/** A kind of divergence, as a survey counts it. */
export interface SurveyKind {
  signature: string;
  count: number;
  /** the first sequence that showed it: its index, and the recordings around the divergence */
  first: number;
  diff: string;
}

/**
 * One sequence on both sides at once (a side in a worker thread runs while
 * the other runs in this one): the two recordings, normalised, and the
 * program written from the left side's run.
 */
export async function runPair(left: Side, right: Side, ops: readonly DiffOp[], emit = false, absent: readonly string[] = []): Promise<{ left: string[]; right: string[]; code: string[] }> {
  const a = left.run(ops, { emit, absent });
  const b = right.run(ops, { emit, absent });
  // Both settle before either's failure is reported: no sequence is still running when the next starts.
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return { left: normalize(ra.value.lines), right: normalize(rb.value.lines), code: ra.value.code };
}

/** A divergence's kind, for telling new ones from ones already found: its two lines with the numbers taken out. */
export function signature(d: Divergence): string {
  const strip = (s: string | undefined): string => (s ?? '(nothing)').replace(/0x[0-9a-f]+|\d+/gi, 'N');
  return `${strip(d.left)}\n${strip(d.right)}`;
}

export async function runDifferential(o: DifferentialOptions): Promise<DifferentialResult> {
  const compare = o.compare ?? exactCompare;
  const log = o.log ?? (() => {});
  const res: DifferentialResult = { sequences: 0, operations: 0, shrinkRuns: 0, findings: [], kinds: [], seconds: 0 };
  const kinds = new Map<string, SurveyKind>();
  const known = new Set<string>();
  const t0 = performance.now();
  let seed = o.seed;
  let lastLog = t0;
  while (res.sequences < o.sequences) {
    let shrinking = false;
    let lastError: string | null = null;
    let lastFailure: { left: string[]; right: string[]; divergence: Divergence } | null = null;
    const prop = fc.asyncProperty(sequenceArb(o.maxOps), async (ops) => {
      if (shrinking) res.shrinkRuns++;
      else {
        res.sequences++;
        res.operations += ops.length;
      }
      let d: Divergence | null;
      let p: Awaited<ReturnType<typeof runPair>>;
      try {
        p = await runPair(o.left, o.right, ops, false, o.absent);
        d = compare(p.left, p.right);
        if (d && o.survey) {
          const sig = signature(d);
          const k = kinds.get(sig);
          if (k) k.count++;
          else kinds.set(sig, { signature: sig, count: 1, first: res.sequences, diff: diffText(p.left, p.right, d, o.left.name, o.right.name) });
          d = null;
        }
      } catch (e) {
        lastError = (e as Error).stack ?? String(e);
        shrinking = true;
        throw e;
      }
      if (!shrinking && performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        log(`  ${res.sequences} sequences, ${res.operations} operations, ${(res.sequences / ((lastLog - t0) / 1000)).toFixed(2)} sequences/s`);
      }
      if (!d || known.has(signature(d))) return true;
      lastFailure = { left: p.left, right: p.right, divergence: d };
      if (!shrinking) log(`  sequence ${res.sequences} diverges at line ${d.index + 1}; shrinking`);
      shrinking = true;
      return false;
    });
    const details = await fc.check(prop, { numRuns: o.sequences - res.sequences, seed, endOnFailure: false });
    if (!details.failed) break;
    const ops = details.counterexample![0];
    const finding = await explain(o, ops, compare, seed, details.numShrinks, lastError, lastFailure);
    res.findings.push(finding);
    log(`  shrunk to ${ops.length} operations in ${details.numShrinks} steps`);
    if (!o.keepGoing || !finding.divergence) break;
    known.add(signature(finding.divergence));
    seed = (seed * 48271 + 1) % 2147483647; // the next seed's sequences are new ones
  }
  res.kinds = [...kinds.values()].sort((a, b) => b.count - a.count);
  res.seconds = (performance.now() - t0) / 1000;
  return res;
}

/**
 * Run the minimal sequence once more, writing its program. If this run
 * agrees (a divergence that depends on more than the sequence: timing, or
 * what an earlier sequence left), the finding keeps the recordings of the
 * last run that diverged, and says so.
 */
async function explain(o: DifferentialOptions, ops: DiffOp[], compare: Compare, seed: number, shrinks: number, error: string | null, last: { left: string[]; right: string[]; divergence: Divergence } | null): Promise<Finding> {
  let p: Awaited<ReturnType<typeof runPair>>;
  try {
    p = await runPair(o.left, o.right, ops, true, o.absent);
  } catch (e) {
    return { ops, divergence: null, error: (e as Error).stack ?? String(e), program: '', diff: '', left: [], right: [], seed, shrinks, reproduced: false };
  }
  let divergence = compare(p.left, p.right);
  const reproduced = divergence !== null;
  let left = p.left;
  let right = p.right;
  if (!divergence && last) ({ left, right, divergence } = last);
  return {
    ops, divergence, error: divergence ? null : error, seed, shrinks, reproduced,
    program: programText(p.code, { name: `seed${seed}`, seed, divergence, left: o.left.name, right: o.right.name }),
    diff: diffText(left, right, divergence, o.left.name, o.right.name),
    left, right,
  };
}

/** The two recordings: the lines before the divergence (the last few, the left side's), then each side's from there. */
export function diffText(a: readonly string[], b: readonly string[], d: Divergence | null, leftName: string, rightName: string): string {
  const at = d?.index ?? Math.min(a.length, b.length);
  const atB = d?.rightIndex ?? at;
  const out: string[] = [`--- ${leftName}`, `+++ ${rightName}`];
  const from = Math.max(0, at - 8);
  if (from > 0) out.push(`  ... ${from} lines`);
  for (let i = from; i < at; i++) out.push(`  ${a[i]}`);
  for (const l of a.slice(at, at + 12)) out.push(`- ${l}`);
  if (a.length > at + 12) out.push(`- ... ${a.length - at - 12} more`);
  for (const l of b.slice(atB, atB + 12)) out.push(`+ ${l}`);
  if (b.length > atB + 12) out.push(`+ ... ${b.length - atB - 12} more`);
  return out.join('\n');
}

const HELPERS: Record<string, string> = {
  hex: "const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));",
  str: 'const str = (s: string): Uint8Array => new TextEncoder().encode(s);',
  setFd: 'const setFd = (a: Uint8Array, at: number, fd: number): void => new DataView(a.buffer, a.byteOffset, a.byteLength).setInt32(at, fd, true);',
  getFd: 'const getFd = (a: Uint8Array, at: number): number => new DataView(a.buffer, a.byteOffset, a.byteLength).getInt32(at, true);',
};

/** The imports and helpers a found program needs (test/differential/programs/fuzz.ts has them). */
export const PROGRAM_PRELUDE = [
  "import * as u from '../../../src/uapi/index.js';",
  "import type { Recorder } from '../recorder.js';",
  "import type { Env } from '../env.js';",
  '',
  ...Object.values(HELPERS),
];

/**
 * The differential program that makes the same calls: a function for
 * test/differential/programs/fuzz.ts (`export function <name>(r, env)`),
 * with a comment saying where it came from and how the two sides differed.
 * With `module`, the imports and helpers come first (a file that compiles
 * on its own).
 */
export function programText(code: readonly string[], about: { name: string; seed: number; divergence: Divergence | null; left: string; right: string; module?: boolean }): string {
  const d = about.divergence;
  const esc = (s: string | undefined): string => (s ?? '(no line)').replace(/\*\//g, '* /');
  return [
    ...(about.module ? [...PROGRAM_PRELUDE, ''] : []),
    '/**',
    ` * Found by the differential fuzzer (npm run fuzz -- --differential --seed ${about.seed}), shrunk.`,
    ...(d ? [
      ` * The recordings first differ at line ${d.index + 1}:`,
      ` *   ${about.left}: ${esc(d.left)}`,
      ` *   ${about.right}: ${esc(d.right)}`,
    ] : []),
    ' */',
    `export function ${about.name}(r: Recorder, env: Env): void {`,
    ...code.map((l) => `  ${l}`),
    '}',
    '',
  ].join('\n');
}
