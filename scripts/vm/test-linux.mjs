#!/usr/bin/env node
// `npm run test:linux`: builds the project, then boots each real Linux 6.12
// kernel once under qemu (scripts/vm/run.mjs's machinery) and runs there the
// commands scripts/vm/suites.json lists for it. Prints node's test summary
// lines per command, the full output of a command that fails, what each
// kernel has, and a closing "linux: N passed, N failed, N skipped" line.
//   node scripts/vm/test-linux.mjs [--kernel stock|built]... [--verbose]
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureHost, KERNELS, prepare, reportProblems, runInGuest } from './lib/guest.mjs';
import { log, readJson, run } from './lib/util.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const projectDir = join(here, '..', '..');
const suites = readJson(join(here, 'suites.json'));

const argv = process.argv.slice(2);
const kinds = [];
let verbose = false;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--kernel') kinds.push(argv[++i]);
  else if (argv[i] === '--verbose') verbose = true;
  else {
    console.error(`unknown argument ${argv[i]}\nusage: node scripts/vm/test-linux.mjs [--kernel stock|built]... [--verbose]`);
    process.exit(2);
  }
}
if (kinds.length === 0) kinds.push(...KERNELS);
for (const k of kinds) {
  if (!KERNELS.includes(k) || !suites.kernels[k]) {
    console.error(`unknown kernel ${k}`);
    process.exit(2);
  }
}

const shq = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
// Node's test runner closes with these lines: "ℹ tests 3" (spec) or "# tests 3" (TAP).
const SUMMARY = /^(?:ℹ|#)\s+(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms)\s+(\d+(?:\.\d+)?)\s*$/;
const stripAnsi = (s) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

/** The guest script: each command under `timeout`, between markers carrying its index and exit status. */
function guestScript(kind, commands, token) {
  const k = suites.kernels[kind];
  const lines = [
    `export DMABUF_VM_KERNEL=${kind}`,
    `export DMABUF_VM_EXPECT=${shq(JSON.stringify(k.expect ?? {}))}`,
  ];
  commands.forEach((c, i) => {
    const env = Object.entries(c.env ?? {}).map(([n, v]) => `${n}=${shq(v)} `).join('');
    lines.push(`echo "@@cmd:begin:${token}:${i}@@"`);
    lines.push(`${env}timeout -s KILL ${c.timeout ?? 300} sh -c ${shq(c.run)}`);
    lines.push(`s=$?; echo; echo "@@cmd:end:${token}:${i}:$s@@"`);
  });
  lines.push('exit 0');
  return lines.join('\n') + '\n';
}

function newCounts() {
  return { tests: 0, pass: 0, fail: 0, skipped: 0, todo: 0, cancelled: 0 };
}

async function runKernel(kind, timings) {
  const k = suites.kernels[kind];
  const runnable = suites.commands.filter((c) => !c.unsupported?.[kind]);
  const result = { kind, about: k.about, commands: [], problems: false, release: '?', has: null };
  for (const c of suites.commands) {
    if (c.unsupported?.[kind]) result.commands.push({ name: c.name, unsupported: c.unsupported[kind] });
  }
  let prepared;
  try {
    prepared = await prepare(kind, timings);
  } catch (e) {
    log(`${kind}: cannot prepare the kernel: ${e.message}`);
    result.problems = true;
    result.error = e.message;
    return result;
  }
  result.release = prepared.kernel.release;
  result.pkg = prepared.kernel.pkg;
  if (runnable.length === 0) return result;

  const token = randomBytes(6).toString('hex');
  const begin = new RegExp(`@@cmd:begin:${token}:(\\d+)@@`);
  const end = new RegExp(`@@cmd:end:${token}:(\\d+):(\\d+)@@`);
  const perCmd = runnable.map((c) => ({ name: c.name, status: null, output: [], counts: newCounts(), summarized: false, report: c.report ? new RegExp(c.report) : null, reported: [] }));
  let cur = null;
  let blank = false;
  const onLine = (line) => {
    let m;
    if ((m = begin.exec(line))) {
      cur = perCmd[Number(m[1])];
      blank = false;
      console.log(`--- ${kind}: ${cur.name}: ${runnable[Number(m[1])].run}`);
      return;
    }
    if ((m = end.exec(line))) {
      const c = perCmd[Number(m[1])];
      c.status = Number(m[2]);
      cur = null;
      return;
    }
    if (!cur) return;
    // The script puts a newline before each end marker: hold one blank line back.
    if (blank) cur.output.push('');
    blank = line === '';
    if (blank) return;
    cur.output.push(line);
    const plain = stripAnsi(line).trim();
    if (plain.startsWith('vm-has: ')) {
      try {
        result.has = JSON.parse(plain.slice('vm-has: '.length));
      } catch {}
    }
    if (cur.report?.test(plain)) {
      // A command's own result line (what it compared, how many sequences): printed and kept for the summary.
      cur.reported.push(plain);
      console.log(`  ${plain}`);
    }
    const s = SUMMARY.exec(plain);
    if (s) {
      if (s[1] in cur.counts) cur.counts[s[1]] += Number(s[2]);
      cur.summarized = true;
      if (s[1] !== 'suites') console.log(`  ${plain}`);
    } else if (verbose) console.log(`  | ${line}`);
  };
  const timeoutSec = runnable.reduce((s, c) => s + (c.timeout ?? 300), 0) + 180;
  const r = await runInGuest(prepared, { script: guestScript(kind, runnable, token), projectDir, timeoutSec, onLine, timings });
  for (const c of perCmd) {
    if (c.status === null) c.status = 'did not finish';
    if (c.status !== 0 && !verbose) {
      console.log(`--- ${kind}: ${c.name} failed (${c.status}); its output:`);
      for (const l of c.output) console.log(`  | ${l}`);
    }
    result.commands.push(c);
  }
  result.problems = reportProblems(kind, r);
  result.seconds = r.seconds;
  return result;
}

const PATH_NAMES = {
  '/dev/dma_heap/system': 'system heap',
  '/dev/dma_heap/reserved': 'CMA heap (reserved)',
  '/dev/udmabuf': 'udmabuf',
  '/dev/dri/card*': 'vgem card',
  '/dev/dri/renderD*': 'vgem render node',
  '/sys/kernel/debug/sync/sw_sync': 'sw_sync',
  '/sys/kernel/dmabuf/buffers': 'sysfs stats',
};

const timings = {};
let ok = true;
const results = [];
try {
  ensureHost(kinds);
  const t0 = performance.now();
  log('building the project (tsc)');
  run('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: projectDir });
  timings['project build'] = (performance.now() - t0) / 1000;
  for (const kind of kinds) results.push(await runKernel(kind, timings));
} catch (e) {
  log(`error: ${e.message}`);
  ok = false;
}

const total = newCounts();
console.log('\n=== linux test bed summary ===');
for (const r of results) {
  console.log(`${r.kind}: ${r.release} (${r.pkg ?? r.about})${r.seconds ? `, boot and run ${r.seconds.toFixed(1)} s` : ''}`);
  if (r.error) console.log(`  could not be prepared: ${r.error}`);
  if (r.has) {
    const names = (want) => Object.entries(r.has).filter(([, v]) => v === want).map(([p]) => PATH_NAMES[p] ?? p).join(', ') || 'nothing';
    console.log(`  has:   ${names(true)}`);
    console.log(`  lacks: ${names(false)}`);
  }
  for (const c of r.commands) {
    if (c.unsupported) {
      console.log(`  ${c.name}: unsupported here: ${c.unsupported}`);
      total.skipped += 1;
      continue;
    }
    const passed = c.status === 0;
    if (!passed) ok = false;
    const n = c.counts;
    const detail = c.summarized ? `tests ${n.tests}, pass ${n.pass}, fail ${n.fail}, skipped ${n.skipped}${n.todo ? `, todo ${n.todo}` : ''}${n.cancelled ? `, cancelled ${n.cancelled}` : ''}` : 'no test summary';
    console.log(`  ${c.name}: ${passed ? 'passed' : `FAILED (${c.status})`} (${detail})`);
    for (const line of c.reported ?? []) console.log(`    ${line}`);
    if (c.summarized) {
      total.pass += n.pass;
      total.fail += n.fail + n.cancelled;
      total.skipped += n.skipped + n.todo;
      if (!passed && n.fail + n.cancelled === 0) total.fail += 1;
    } else if (passed) total.pass += 1;
    else total.fail += 1;
  }
  if (r.problems) {
    ok = false;
    console.log('  the guest kernel reported problems or did not finish (see above)');
    total.fail += 1;
  }
}
console.log(`timings: ${Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}`);
if (!ok && total.fail === 0) total.fail = 1;
console.log(`linux: ${total.pass} passed, ${total.fail} failed, ${total.skipped} skipped`);
process.exitCode = ok ? 0 : 1;
