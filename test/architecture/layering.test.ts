/**
 * The architecture as a test: every import in src/ (type-only ones and
 * `export ... from` included) follows the layers of docs/layering.json,
 * no files import each other in a cycle, and no errno is written as a
 * number outside the errno tables.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errnoNames } from '../../src/kernel/lib/errno.js';
import { analyse, importsOf, loadRules, violation } from './imports.js';

const report = analyse(new Set(Object.values(errnoNames)));

test('every import in src follows the layers of docs/layering.json', () => {
  const lines = report.violations.map(({ edge, why }) => `  ${edge.from}:${edge.line} imports ${edge.to}${edge.typeOnly ? ' (type only)' : ''}\n    ${why}`);
  assert.ok(report.edges.length > 100, `only ${report.edges.length} imports found: the parser misses some`);
  assert.equal(lines.length, 0, `${lines.length} import(s) break the layering:\n${lines.join('\n')}`);
});

test('no import cycle in src', () => {
  const lines = report.cycles.map((c) => `  ${c.join('\n    -> ')}`);
  assert.equal(lines.length, 0, `${lines.length} import cycle(s):\n${lines.join('\n')}`);
});

test('no errno written as a number in src (outside the errno tables)', () => {
  const lines = report.errno.map((e) => `  ${e.file}:${e.line}  ${e.text}`);
  assert.equal(lines.length, 0, `${lines.length} numeric errno(s); use the names of src/uapi/errno.ts:\n${lines.join('\n')}`);
});

test('the checker sees every form of import and applies each rule', () => {
  // The checker itself must not pass by missing things: its own rules on known imports.
  const rules = loadRules();
  const edge = (from: string, to: string) => ({ from, to, spec: '', line: 1, typeOnly: false });
  assert.equal(violation(rules, edge('src/kernel/buf/dma-buf.ts', 'src/kernel/fs/file.ts')), null);
  assert.match(violation(rules, edge('src/kernel/fs/vfs.ts', 'src/kernel/heaps/dma-heap.ts'))!, /points down/);
  assert.match(violation(rules, edge('src/kernel/lib/bug.ts', 'src/kernel/init.ts'))!, /kernel root/);
  assert.equal(violation(rules, edge('src/kernel/init.ts', 'src/kernel/drivers/vgem.ts')), null);
  assert.match(violation(rules, edge('src/uapi/fcntl.ts', 'src/kernel/lib/errno.ts'))!, /nothing of ours/);
  assert.match(violation(rules, edge('src/kernel/lib/bug.ts', 'src/machine/boot.ts'))!, /kernel may not import machine/);
  assert.match(violation(rules, edge('src/user/heap.ts', 'src/kernel/lib/errno.ts'))!, /user may not import kernel/);
  assert.match(violation(rules, edge('src/cli/main.ts', 'src/kernel/fence/dma-fence.ts'))!, /only through src\/kernel\/index.ts/);
  assert.equal(violation(rules, edge('src/cli/main.ts', 'src/kernel/index.ts')), null);
  assert.equal(violation(rules, edge('src/machine/boot.ts', 'src/kernel/mm/page-alloc.ts')), null);
  // The parser: type-only imports and re-exports of this very directory's test are found.
  const own = importsOf('test/architecture/layering.test.ts');
  assert.ok(own.some((e) => e.to === 'src/kernel/lib/errno.ts'));
  assert.ok(own.some((e) => e.to === 'test/architecture/imports.ts'));
  const index = importsOf('src/kernel/index.ts');
  assert.ok(index.some((e) => e.to === 'src/kernel/lib/out.ts' && e.typeOnly), 'export type ... from is an import');
});
