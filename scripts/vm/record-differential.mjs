#!/usr/bin/env node
// Records the differential programs' outputs on real Linux 6.12 (the VM test
// bed) into the repository, for the host-side comparison
// (test/differential/recorded.test.ts):
//   node scripts/vm/record-differential.mjs [--kernel stock|built]... [--out DIR] [--emulator DIR] [--programs PATTERN]
// Builds the project, boots each kernel (both by default), runs
// `dist/test/differential/main.js --emit` there, and writes each program's
// normalised Linux recording to DIR/<kernel>/<area>/<name>.txt (DIR defaults
// to test/differential/linux) with the kernel's features in env.json;
// --emulator DIR also writes the emulator's recordings of the same run there.
// The comparison's own verdict is printed; recording does not fail on it.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureHost, KERNELS, prepare, reportProblems, runInGuest } from './lib/guest.mjs';
import { log, run } from './lib/util.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const projectDir = join(here, '..', '..');
const usage = 'usage: node scripts/vm/record-differential.mjs [--kernel stock|built]... [--out DIR] [--emulator DIR] [--programs PATTERN]';

const argv = process.argv.slice(2);
const kinds = [];
let out = join(projectDir, 'test', 'differential', 'linux');
let emulatorOut = null;
let programs = null;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--kernel') kinds.push(argv[++i]);
  else if (a === '--out') out = argv[++i];
  else if (a === '--emulator') emulatorOut = argv[++i];
  else if (a === '--programs') programs = argv[++i];
  else {
    console.error(`unknown argument ${a}\n${usage}`);
    process.exit(2);
  }
}
if (kinds.length === 0) kinds.push(...KERNELS);
if (kinds.some((k) => !KERNELS.includes(k))) {
  console.error(usage);
  process.exit(2);
}

// The markers main.js --emit prints (test/differential/main.ts EMIT_BEGIN / EMIT_END).
const BEGIN = /^@@differential:begin:(env|(emulator|linux):([\w./-]+))@@$/;
const END = '@@differential:end@@';
const shq = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

let ok = true;
try {
  ensureHost(kinds);
  log('building the project (tsc)');
  run('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: projectDir });
  for (const kind of kinds) {
    const prepared = await prepare(kind, {});
    const files = new Map();
    let cur = null;
    const onLine = (line) => {
      const m = BEGIN.exec(line);
      if (m) {
        cur = { key: m[1], lines: [] };
        return;
      }
      if (line === END && cur) {
        files.set(cur.key, cur.lines.join('\n') + '\n');
        cur = null;
        return;
      }
      if (cur) cur.lines.push(line);
      else if (/^(same|differs|DIFFERS|skipped|differential:)/.test(line)) console.log(`  ${kind}: ${line}`);
    };
    const cmd = `DMABUF_VM_KERNEL=${kind} node dist/test/differential/main.js --emit${programs ? ` --programs ${shq(programs)}` : ''}`;
    const r = await runInGuest(prepared, { script: cmd, projectDir, timeoutSec: 900, onLine });
    if (reportProblems(kind, r) || r.status === null || !files.has('env')) {
      log(`${kind}: the run did not complete: nothing written`);
      ok = false;
      continue;
    }
    const dir = join(out, kind);
    // A full run replaces the directory, so programs that are gone leave no stale file.
    if (!programs) rmSync(dir, { recursive: true, force: true });
    let n = 0;
    for (const [key, text] of files) {
      let target;
      if (key === 'env') target = join(dir, 'env.json');
      else if (key.startsWith('linux:')) target = join(dir, `${key.slice('linux:'.length)}.txt`);
      else if (emulatorOut) target = join(emulatorOut, kind, `${key.slice('emulator:'.length)}.txt`);
      else continue;
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, key === 'env' ? JSON.stringify(JSON.parse(text), null, 2) + '\n' : text);
      n++;
    }
    log(`${kind}: ${n} files written under ${dir}${emulatorOut ? ` and ${emulatorOut}` : ''}`);
  }
} catch (e) {
  log(`error: ${e.message}`);
  ok = false;
}
process.exitCode = ok ? 0 : 1;
