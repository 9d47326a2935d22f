/**
 * Every ```ts example in README.md and docs/*.md runs, against the package
 * itself (imports of 'dmabuf/...' resolve through package.json "exports"),
 * so no example can rot. A `// → text` comment on a line states what that
 * line prints; the printed lines must match them in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const outDir = join(root, 'dist', '.examples');

function examples(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

const docs = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
mkdirSync(outDir, { recursive: true });

for (const doc of docs) {
  examples(doc).forEach((src, i) => {
    test(`${doc} example ${i + 1} runs`, () => {
      const js = ts.transpileModule(src, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
      const file = join(outDir, `${doc.replace(/[/.]/g, '_')}-${i + 1}.mjs`);
      writeFileSync(file, js);
      const out = execFileSync(process.execPath, [file], { cwd: root, timeout: 60_000, encoding: 'utf8' });
      const expected = [...src.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1].trim());
      const printed = out.split('\n').filter((l) => l.length > 0);
      assert.deepEqual(printed, expected, `${doc} example ${i + 1} printed something else`);
    });
  });
}
