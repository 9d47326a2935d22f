#!/usr/bin/env node
// Runs a shell command in a real Linux 6.12 guest under qemu:
//   node scripts/vm/run.mjs --kernel stock|built [--timeout SECONDS] [--dmesg] -- <command>
// The command runs in /project (this project's package.json, dist/,
// node_modules/ and scripts/: build first). Its output streams to stdout;
// the exit status is the command's. It fails (status 1 when the command
// itself passed) on a guest that hangs or crashes, and on WARNING/BUG/Oops/
// panic lines in the guest's dmesg. Kernels and initramfs layers are cached
// in $DMABUF_VM_CACHE (default ~/.cache/dmabuf-vm). See docs/vm-test-bed.md.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureHost, KERNELS, prepare, reportProblems, runInGuest } from './lib/guest.mjs';
import { log } from './lib/util.mjs';

const usage = 'usage: node scripts/vm/run.mjs --kernel stock|built [--timeout SECONDS] [--dmesg] -- <shell command>';
const argv = process.argv.slice(2);
let kind = 'stock';
let timeoutSec = 600;
let showDmesg = false;
let cmd = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--') {
    cmd = argv.slice(i + 1);
    break;
  } else if (a === '--kernel') kind = argv[++i];
  else if (a === '--timeout') timeoutSec = Number(argv[++i]);
  else if (a === '--dmesg') showDmesg = true;
  else if (a === '-h' || a === '--help') {
    console.log(usage);
    process.exit(0);
  } else {
    console.error(`unknown argument ${a}\n${usage}`);
    process.exit(2);
  }
}
if (!KERNELS.includes(kind) || cmd.length === 0 || !(timeoutSec > 0)) {
  console.error(usage);
  process.exit(2);
}

const projectDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
try {
  ensureHost([kind]);
  const timings = {};
  const prepared = await prepare(kind, timings);
  const r = await runInGuest(prepared, {
    script: cmd.join(' '),
    projectDir,
    timeoutSec,
    onLine: (l) => process.stdout.write(`${l}\n`),
    timings,
  });
  if (showDmesg) {
    log('guest dmesg:');
    for (const l of r.dmesg) process.stderr.write(`  | ${l}\n`);
  }
  const bad = reportProblems(kind, r);
  log(`timings: ${Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}`);
  process.exitCode = r.status === null ? 1 : r.status !== 0 ? r.status : bad ? 1 : 0;
} catch (e) {
  log(`error: ${e.message}`);
  process.exitCode = 1;
}
