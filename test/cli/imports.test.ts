/**
 * `dmabuf demo` and `dmabuf --help` load no kernel code in the CLI's own
 * thread: the kernel runs in the machine's worker. Only `dmabuf fences`,
 * which drives the kernel face itself, loads it, through a dynamic import.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { staticGraph } from '../helpers/static-graph.js';

const dist = fileURLToPath(new URL('../../src/', import.meta.url));

test('the CLI statically loads no kernel file; fences imports the kernel face dynamically', () => {
  const main = resolve(dist, 'cli/main.js');
  const files = [...staticGraph(main)].map((f) => relative(dist, f));
  assert.ok(files.includes('cli/demo-pipeline.js') && files.includes('machine/boot.js'), files.join(', '));
  assert.deepEqual(files.filter((f) => f.startsWith('kernel/')), []);
  assert.match(readFileSync(main, 'utf8'), /await import\('\.\/demo-fences\.js'\)/);
  assert.ok([...staticGraph(resolve(dist, 'cli/demo-fences.js'))].some((f) => relative(dist, f) === 'kernel/index.js'), 'the fences command does use the kernel face');
});
