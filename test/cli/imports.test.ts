/**
 * `dmabuf demo` and `dmabuf --help` load no kernel code in the CLI's own
 * thread: the kernel runs in the machine's worker. Only `dmabuf fences`,
 * which drives the kernel face itself, loads it, through a dynamic import.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../../src/', import.meta.url));

/** Every file the module loads before it runs: its static imports, followed (type-only imports are gone from the JavaScript). */
function staticGraph(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'|^\s*import\s+'(\.[^']+)'/gm)) {
    staticGraph(resolve(dirname(file), m[1] ?? m[2]), seen);
  }
  return seen;
}

test('the CLI statically loads no kernel file; fences imports the kernel face dynamically', () => {
  const main = resolve(dist, 'cli/main.js');
  const files = [...staticGraph(main)].map((f) => relative(dist, f));
  assert.ok(files.includes('cli/demo-pipeline.js') && files.includes('machine/boot.js'), files.join(', '));
  assert.deepEqual(files.filter((f) => f.startsWith('kernel/')), []);
  assert.match(readFileSync(main, 'utf8'), /await import\('\.\/demo-fences\.js'\)/);
  assert.ok([...staticGraph(resolve(dist, 'cli/demo-fences.js'))].some((f) => relative(dist, f) === 'kernel/index.js'), 'the fences command does use the kernel face');
});
