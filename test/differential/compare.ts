/**
 * Line-by-line comparison of two normalised recordings of one program (the
 * emulator's and Linux's), and the allow-list of known differences.
 *
 * The differences are found with a longest-common-subsequence diff, so one
 * extra line does not shift everything after it. Each differing emulator
 * line is paired with a differing Linux line of the same hunk. A difference
 * passes only when docs/linux-differences.md lists it: a fenced block with
 * the info string `difference` holding one JSON object (or an array of
 * them):
 *
 * ```difference
 * { "id": "memfd-nlink", "program": "^fd/", "emulator": "^  st_nlink = 1$", "linux": "^  st_nlink = 0$" }
 * ```
 *
 * `program` matches the program's id, `emulator` and `linux` the two lines
 * (null: the line is missing on that side), optional `kernels` the kernels
 * ('stock', 'built') it applies to. The prose around the block is the
 * reason; the heading above it is the difference's title.
 */
import { readFileSync } from 'node:fs';

/** One listed difference. */
export interface Allowed {
  readonly id: string;
  readonly title: string;
  readonly program: RegExp;
  readonly emulator: RegExp | null;
  readonly linux: RegExp | null;
  readonly kernels: readonly string[] | null;
}

interface AllowedJson {
  id?: unknown;
  program?: unknown;
  emulator?: unknown;
  linux?: unknown;
  kernels?: unknown;
}

/** The differences listed in a document (its `difference` blocks); throws on a malformed block. */
export function parseAllowList(markdown: string): Allowed[] {
  const out: Allowed[] = [];
  const ids = new Set<string>();
  let title = '';
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const h = /^#{1,6}\s+(.*)$/.exec(lines[i]);
    if (h) title = h[1].trim();
    if (lines[i].trim() !== '```difference') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end].trim() !== '```') end++;
    if (end === lines.length) throw new Error(`linux-differences: the difference block at line ${i + 1} is not closed`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(lines.slice(start, end).join('\n'));
    } catch (e) {
      throw new Error(`linux-differences: the block at line ${i + 1} is not JSON: ${(e as Error).message}`);
    }
    for (const j of (Array.isArray(parsed) ? parsed : [parsed]) as AllowedJson[]) {
      const where = `linux-differences line ${i + 1}`;
      if (typeof j.id !== 'string' || !j.id) throw new Error(`${where}: a difference needs an id`);
      if (ids.has(j.id)) throw new Error(`${where}: the id ${j.id} is listed twice`);
      ids.add(j.id);
      if (typeof j.program !== 'string') throw new Error(`${where}: ${j.id} needs a program pattern`);
      const re = (v: unknown, name: string): RegExp | null => {
        if (v === null) return null;
        if (typeof v !== 'string') throw new Error(`${where}: ${j.id}.${name} must be a pattern or null`);
        return new RegExp(v);
      };
      const emulator = re(j.emulator, 'emulator');
      const linux = re(j.linux, 'linux');
      if (!emulator && !linux) throw new Error(`${where}: ${j.id} matches no line on either side`);
      if (j.kernels !== undefined && !(Array.isArray(j.kernels) && j.kernels.every((k) => typeof k === 'string'))) throw new Error(`${where}: ${j.id}.kernels must be a list of names`);
      out.push({ id: j.id, title, program: new RegExp(j.program), emulator, linux, kernels: (j.kernels as string[] | undefined) ?? null });
    }
    i = end;
  }
  return out;
}

/** The allow-list of the repository's docs/linux-differences.md. */
export function loadAllowList(): Allowed[] {
  return parseAllowList(readFileSync(new URL('../../../docs/linux-differences.md', import.meta.url), 'utf8'));
}

/** One difference found: the emulator's line and Linux's (null where the line is missing), and the entry that lists it, if any. */
export interface Difference {
  /** 1-based line numbers in each recording (the position where the missing line would be) */
  emulatorLine: number;
  linuxLine: number;
  emulator: string | null;
  linux: string | null;
  listed: Allowed | null;
}

export interface Comparison {
  program: string;
  /** lines compared: the longer recording's count */
  lines: number;
  differences: Difference[];
  /** 'same', 'listed' (every difference listed) or 'differs' */
  status: 'same' | 'listed' | 'differs';
  /** a readable diff of the unlisted differences (empty when none) */
  diff: string;
}

type Op = { kind: 'same' | 'emu' | 'linux'; a: number; b: number };

/** The edit script of an LCS diff of a against b. */
function diffOps(a: readonly string[], b: readonly string[]): Op[] {
  // Trim the common head and tail: recordings differ in few places.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const n = a.length - head - tail;
  const m = b.length - head - tail;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[head + i] === b[head + j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const ops: Op[] = [];
  for (let k = 0; k < head; k++) ops.push({ kind: 'same', a: k, b: k });
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[head + i] === b[head + j]) {
      ops.push({ kind: 'same', a: head + i++, b: head + j++ });
    } else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) {
      ops.push({ kind: 'linux', a: head + i, b: head + j++ });
    } else {
      ops.push({ kind: 'emu', a: head + i++, b: head + j });
    }
  }
  for (let k = 0; k < tail; k++) ops.push({ kind: 'same', a: a.length - tail + k, b: b.length - tail + k });
  return ops;
}

function allows(e: Allowed, program: string, kernel: string | null, emu: string | null, linux: string | null): boolean {
  if (!e.program.test(program)) return false;
  if (kernel && e.kernels && !e.kernels.includes(kernel)) return false;
  if ((e.emulator === null) !== (emu === null) || (e.linux === null) !== (linux === null)) return false;
  return (emu === null || e.emulator!.test(emu)) && (linux === null || e.linux!.test(linux));
}

/**
 * Compare the emulator's recording of `program` with Linux's. `kernel`
 * ('stock', 'built') selects the entries that apply to it.
 */
export function compareRecordings(program: string, emulator: readonly string[], linux: readonly string[], allowList: readonly Allowed[], kernel: string | null = null): Comparison {
  const ops = diffOps(emulator, linux);
  const differences: Difference[] = [];
  // Hunks: runs of ops that are not 'same'.
  for (let k = 0; k < ops.length; ) {
    if (ops[k].kind === 'same') {
      k++;
      continue;
    }
    const start = k;
    while (k < ops.length && ops[k].kind !== 'same') k++;
    const emus = ops.slice(start, k).filter((o) => o.kind === 'emu');
    const lins = ops.slice(start, k).filter((o) => o.kind === 'linux');
    const usedLinux = new Set<number>();
    const pairs: Difference[] = [];
    // Pair each emulator line with a Linux line of the hunk that an entry lists together, else the next unpaired one.
    for (const e of emus) {
      const el = emulator[e.a];
      let found: { idx: number; allowed: Allowed } | null = null;
      for (let x = 0; x < lins.length && !found; x++) {
        if (usedLinux.has(x)) continue;
        const entry = allowList.find((a) => allows(a, program, kernel, el, linux[lins[x].b]));
        if (entry) found = { idx: x, allowed: entry };
      }
      if (found) {
        usedLinux.add(found.idx);
        pairs.push({ emulatorLine: e.a + 1, linuxLine: lins[found.idx].b + 1, emulator: el, linux: linux[lins[found.idx].b], listed: found.allowed });
        continue;
      }
      pairs.push({ emulatorLine: e.a + 1, linuxLine: e.b + 1, emulator: el, linux: null, listed: null });
    }
    // Linux lines left: pair them, in order, with emulator lines no entry paired; else they stand alone.
    const lonelyEmu = pairs.filter((p) => !p.listed);
    let le = 0;
    for (let x = 0; x < lins.length; x++) {
      if (usedLinux.has(x)) continue;
      const l = lins[x];
      const partner = lonelyEmu[le];
      if (partner) {
        le++;
        partner.linux = linux[l.b];
        partner.linuxLine = l.b + 1;
      } else {
        pairs.push({ emulatorLine: l.a + 1, linuxLine: l.b + 1, emulator: null, linux: linux[l.b], listed: null });
      }
    }
    // Unpaired lines (one side only) may be listed as missing on the other side.
    for (const p of pairs) {
      if (p.listed) continue;
      p.listed = allowList.find((a) => allows(a, program, kernel, p.emulator, p.linux)) ?? null;
      if (!p.listed && p.emulator !== null && p.linux !== null) {
        // A pair no entry lists together: each side may still be listed alone.
        const alone = allowList.find((a) => allows(a, program, kernel, p.emulator, null)) && allowList.find((a) => allows(a, program, kernel, null, p.linux));
        if (alone) p.listed = allowList.find((a) => allows(a, program, kernel, p.emulator, null))!;
      }
    }
    differences.push(...pairs);
  }
  const unlisted = differences.filter((d) => !d.listed);
  const status = differences.length === 0 ? 'same' : unlisted.length === 0 ? 'listed' : 'differs';
  return { program, lines: Math.max(emulator.length, linux.length), differences, status, diff: unlisted.length ? renderDiff(emulator, linux, ops, new Set(unlisted.map((d) => `${d.emulatorLine}:${d.linuxLine}`))) : '' };
}

/** A unified-style diff with two lines of context around each hunk that holds an unlisted difference. */
function renderDiff(a: readonly string[], b: readonly string[], ops: Op[], _unlisted: Set<string>): string {
  const out: string[] = [];
  const isChange = (k: number): boolean => ops[k].kind !== 'same';
  const show = new Set<number>();
  ops.forEach((_, k) => {
    if (!isChange(k)) return;
    for (let c = Math.max(0, k - 2); c <= Math.min(ops.length - 1, k + 2); c++) show.add(c);
  });
  let last = -2;
  for (let k = 0; k < ops.length; k++) {
    if (!show.has(k)) continue;
    if (k !== last + 1) out.push(`  @@ emulator line ${ops[k].a + 1}, linux line ${ops[k].b + 1} @@`);
    last = k;
    const o = ops[k];
    if (o.kind === 'same') out.push(`    ${a[o.a]}`);
    else if (o.kind === 'emu') out.push(`  - ${a[o.a]}`);
    else out.push(`  + ${b[o.b]}`);
  }
  return out.join('\n');
}
