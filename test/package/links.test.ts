/**
 * The documents a user reads (README, CHANGELOG, CONTRIBUTING, docs/,
 * examples/README) link only to files inside the repository, and those
 * files exist: a clone or an installed package has no workspace around it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
/** Being written on another branch; remove once it is merged. */
const docs = ['README.md', 'CHANGELOG.md', 'CONTRIBUTING.md', 'examples/README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

test('documents link only to files inside the repository, and those exist', () => {
  const bad: string[] = [];
  for (const doc of docs) {
    const text = readFileSync(join(root, doc), 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue; // a web address or an anchor
      const path = resolve(root, dirname(doc), target.split('#')[0]);
      const rel = relative(root, path);
      if (rel.startsWith('..') || target.startsWith('/')) bad.push(`${doc}: ${target} is outside the repository`);
      else if (!existsSync(path)) bad.push(`${doc}: ${target} does not exist`);
    }
  }
  assert.deepEqual(bad, []);
});
