/**
 * docs/kernel-map.md names every function and callback declared in the
 * newest seed header (shared/seeds/dma-buf.h-v6), with its TypeScript name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const seed = join(root, '..', 'shared', 'seeds', 'dma-buf.h-v6');

test('every function and callback of dma-buf.h-v6 is in docs/kernel-map.md', { skip: !existsSync(seed) && 'the seed is not beside this checkout' }, () => {
  const header = readFileSync(seed, 'utf8');
  const map = readFileSync(join(root, 'docs', 'kernel-map.md'), 'utf8');
  const functions = new Set([...header.matchAll(/\b((?:get_)?dma_buf_\w+)\s*\(/g)].map((m) => m[1]));
  const callbacks = new Set([...header.matchAll(/\(\*(\w+)\)\s*\(/g)].map((m) => m[1]));
  callbacks.add('cache_sgt_mapping');
  assert.ok(functions.size >= 20, `found ${functions.size} functions`);
  const missing = [...functions].filter((f) => !map.includes('`' + f + '`') && !map.includes('`' + f + '(')).concat(
    [...callbacks].filter((c) => !map.includes('`.' + c + '`') && !map.includes('`.' + c)),
  );
  assert.deepEqual(missing, []);
});
