#!/usr/bin/env node
// Runs the compiled benchmarks (dist/bench/*.bench.js) one after another
// and prints their tables. Arguments filter by file name: `npm run bench -- fence`.
// `--json`: every figure as one JSON object per line, and nothing else on
// stdout: {"group","name","value","unit","baseline","ratio","target","pass"}
// (baseline is {"name","value"} or null; ratio, target and pass are null
// where a figure has none).
import { readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join, resolve } from 'node:path';

const dir = resolve('dist/bench');
const argv = process.argv.slice(2);
const json = argv.includes('--json');
const filters = argv.filter((a) => a !== '--json');
const files = readdirSync(dir).filter((f) => f.endsWith('.bench.js')).filter((f) => !filters.length || filters.some((s) => f.includes(s))).sort();
const say = (s) => {
  if (!json) console.log(s);
};
if (!globalThis.gc) say('(run with --expose-gc for memory figures)');
say(`# dmabuf benchmarks — node ${process.version}, ${new Date().toISOString()}`);
const { printRows } = await import(pathToFileURL(join(dir, 'harness.js')).href);
let failed = 0;
for (const f of files) {
  const mod = await import(pathToFileURL(join(dir, f)).href);
  const rows = await mod.run();
  const group = f.replace(/\.bench\.js$/, '');
  if (json) {
    for (const r of rows) {
      console.log(JSON.stringify({
        group, name: r.name, value: r.value, unit: r.unit, baseline: r.baseline ?? null, ratio: r.ratio ?? null, target: r.target ?? null, pass: r.pass ?? null,
        ...(r.note ? { note: r.note } : {}),
      }));
    }
  } else {
    printRows(mod.title ?? f, rows);
  }
  failed += rows.filter((r) => r.pass === false).length;
}
say(failed ? `\n${failed} target(s) missed` : '\nall targets met');
