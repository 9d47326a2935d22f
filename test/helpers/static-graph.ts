/**
 * The files a compiled module loads before it runs: its static relative
 * imports, followed (type-only imports are gone from the JavaScript). The
 * import-cost tests use it on dist/.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export function staticGraph(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'|^\s*import\s+'(\.[^']+)'/gm)) {
    staticGraph(resolve(dirname(file), m[1] ?? m[2]), seen);
  }
  return seen;
}
