/**
 * docs/kernel-map.md names every function and callback of the Linux 6.x
 * include/linux/dma-buf.h with its TypeScript name. The list of Linux
 * symbols is data in the repository (docs/linux-symbols.json, with where
 * it comes from), so this runs in any checkout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface LinuxSymbols {
  source: string;
  functions: string[];
  callbacks: string[];
}

test('every function and callback of the Linux 6.x dma-buf.h is in docs/kernel-map.md', () => {
  const symbols = JSON.parse(readFileSync(join(root, 'docs', 'linux-symbols.json'), 'utf8')) as LinuxSymbols;
  const map = readFileSync(join(root, 'docs', 'kernel-map.md'), 'utf8');
  assert.ok(symbols.functions.length >= 20, `${symbols.functions.length} functions listed`);
  assert.ok(symbols.callbacks.length >= 13, `${symbols.callbacks.length} callbacks listed`);
  assert.ok(symbols.functions.every((f) => /^(get_)?dma_buf(_\w+)?$/.test(f)), 'functions are dma_buf_* or get_dma_buf*');
  const missing = symbols.functions.filter((f) => !map.includes('`' + f + '`') && !map.includes('`' + f + '(')).concat(
    symbols.callbacks.filter((c) => !map.includes('`.' + c + '`') && !map.includes('`.' + c)),
  );
  assert.deepEqual(missing, []);
});
