/**
 * The differential runner: every program on the emulator and on the native
 * backend (the host's real kernel), both in this process; the normalised
 * recordings compared line by line against the allow-list of
 * docs/linux-differences.md.
 *
 *   node dist/test/differential/main.js [--compare] [--record DIR] [--emit] [--programs PATTERN] [--raw]
 *
 * --compare          compare (the default unless --record is given): exit 1 on an unlisted difference
 * --record DIR       write each backend's normalised recording: DIR/<backend>/<area>/<name>.txt, and DIR/linux/env.json
 * --emit             print the recordings on stdout between markers (scripts/vm/record-differential.mjs reads them)
 * --programs PATTERN only the programs whose id matches the regexp
 * --raw              print the raw recordings (real values, tokens marked) of the programs that differ
 * --kernel NAME      the kernel's name for the allow-list's `kernels` (default $DMABUF_VM_KERNEL)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { boot } from '../../src/index.js';
import { detectFeatures, emulatorBootOptions, makeEnv, type Features } from './env.js';
import { compareRecordings, loadAllowList } from './compare.js';
import { normalize, renderRaw } from './normalize.js';
import { recordingText, runProgram, selectPrograms } from './run.js';

const USAGE = 'usage: node dist/test/differential/main.js [--compare] [--record DIR] [--emit] [--programs PATTERN] [--raw] [--kernel NAME]';

interface Options {
  compare: boolean;
  record: string | null;
  emit: boolean;
  programs: string | null;
  raw: boolean;
  kernel: string | null;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { compare: false, record: null, emit: false, programs: null, raw: false, kernel: process.env.DMABUF_VM_KERNEL || null };
  let explicitCompare = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--compare') explicitCompare = true;
    else if (a === '--record') o.record = value();
    else if (a === '--emit') o.emit = true;
    else if (a === '--programs') o.programs = value();
    else if (a === '--raw') o.raw = true;
    else if (a === '--kernel') o.kernel = value();
    else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  o.compare = explicitCompare || o.record === null;
  return o;
}

/** The markers --emit prints around a recording (scripts/vm/record-differential.mjs parses them). */
export const EMIT_BEGIN = '@@differential:begin';
export const EMIT_END = '@@differential:end@@';

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

async function main(): Promise<number> {
  let o: Options;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const programs = selectPrograms(o.programs);
  if (programs.length === 0) {
    console.error(`no program matches ${o.programs}`);
    return 2;
  }
  const allowList = loadAllowList();
  const linux = await boot({ backend: 'linux' });
  const probe = linux.spawn('probe');
  const features: Features = detectFeatures(probe);
  probe.exit();
  const env = makeEnv(features);
  const emulator = await boot(emulatorBootOptions(features));
  console.log(`differential: ${programs.length} programs; the kernel has ${JSON.stringify(features)}`);
  if (o.emit) console.log(`${EMIT_BEGIN}:env@@\n${JSON.stringify(features)}\n${EMIT_END}`);
  if (o.record) write(join(o.record, 'linux', 'env.json'), JSON.stringify(features, null, 2) + '\n');

  const totals = { programs: programs.length, skipped: 0, same: 0, listed: 0, differs: 0, lines: 0, listedDiffs: 0, unlistedDiffs: 0 };
  for (const entry of programs) {
    const emu = await runProgram(emulator, entry, env);
    const lin = await runProgram(linux, entry, env);
    for (const [backend, run] of [['emulator', emu], ['linux', lin]] as const) {
      const text = recordingText(run);
      if (o.record) write(join(o.record, backend, `${entry.id}.txt`), text);
      if (o.emit) console.log(`${EMIT_BEGIN}:${backend}:${entry.id}@@\n${text}${EMIT_END}`);
    }
    if (emu.skipped || lin.skipped) {
      totals.skipped++;
      console.log(`skipped   ${entry.id}: ${lin.skipped ?? emu.skipped}`);
      continue;
    }
    const c = compareRecordings(entry.id, normalize(emu.lines), normalize(lin.lines), allowList, o.kernel);
    totals.lines += c.lines;
    const listed = c.differences.filter((d) => d.listed);
    totals.listedDiffs += listed.length;
    totals.unlistedDiffs += c.differences.length - listed.length;
    const ids = [...new Set(listed.map((d) => d.listed!.id))];
    if (c.status === 'same') {
      totals.same++;
      console.log(`same      ${entry.id} (${c.lines} lines)`);
    } else if (c.status === 'listed') {
      totals.listed++;
      console.log(`differs (listed) ${entry.id} (${c.lines} lines): ${ids.join(', ')}`);
    } else {
      totals.differs++;
      console.log(`DIFFERS   ${entry.id} (${c.lines} lines, ${c.differences.length - listed.length} unlisted${ids.length ? `; listed: ${ids.join(', ')}` : ''})`);
      console.log(c.diff);
      if (o.raw) {
        console.log('  raw emulator recording:');
        for (const l of renderRaw(emu.lines)) console.log(`    ${l}`);
        console.log('  raw linux recording:');
        for (const l of renderRaw(lin.lines)) console.log(`    ${l}`);
      }
    }
  }
  const leftEmu = await emulator.shutdown();
  const leftLinux = await linux.shutdown();
  const held = (left: Record<string, number>): string => Object.entries(left).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(', ');
  if (held(leftEmu)) console.log(`the emulator still held: ${held(leftEmu)}`);
  if (held(leftLinux)) console.log(`the native backend still held: ${held(leftLinux)}`);
  const compared = totals.programs - totals.skipped;
  console.log(
    `differential: ${totals.programs} programs (${compared} compared, ${totals.skipped} skipped): ${totals.same} same, ${totals.listed} differ as listed, ${totals.differs} DIFFER; ` +
      `${totals.lines} lines compared, ${totals.listedDiffs} differences listed, ${totals.unlistedDiffs} unlisted`,
  );
  // The closing counts in node's test-runner form, which the VM test bed sums up.
  console.log(`# tests ${totals.programs}\n# pass ${totals.same + totals.listed}\n# fail ${totals.differs}\n# skipped ${totals.skipped}`);
  return o.compare && totals.differs > 0 ? 1 : 0;
}

process.exitCode = await main();
