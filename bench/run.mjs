#!/usr/bin/env node
// Runs the compiled benchmarks (dist/bench/*.bench.js) one after another
// and prints their tables. Arguments filter by file name: `npm run bench -- fence`.
import { readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join, resolve } from 'node:path';

const dir = resolve('dist/bench');
const filters = process.argv.slice(2);
const files = readdirSync(dir).filter((f) => f.endsWith('.bench.js')).filter((f) => !filters.length || filters.some((s) => f.includes(s))).sort();
if (!globalThis.gc) console.log('(run with --expose-gc for memory figures)');
console.log(`# dmabuf benchmarks — node ${process.version}, ${new Date().toISOString()}`);
let failed = 0;
for (const f of files) {
  const mod = await import(pathToFileURL(join(dir, f)).href);
  const rows = await mod.run();
  const { printRows } = await import(pathToFileURL(join(dir, 'harness.js')).href);
  printRows(mod.title ?? f, rows);
  failed += rows.filter((r) => r.pass === false).length;
}
console.log(failed ? `\n${failed} target(s) missed` : '\nall targets met');
