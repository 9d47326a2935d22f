/**
 * The @example blocks of the API reference (doc comments of everything the
 * 'dmabuf', 'dmabuf/user' and 'dmabuf/uapi' entry points export) type-check
 * against the sources, so an example cannot drift from the API it shows.
 *
 * An example is a fragment: its `import` lines are kept, the rest becomes
 * the body of an async function. Every export of the three entry points is
 * in scope unless the example imports the name itself, and so are a few
 * objects examples may take as given (see PRELUDE_GIVENS).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const ENTRIES: Record<string, string> = { dmabuf: 'src/index.ts', 'dmabuf/user': 'src/user/index.ts', 'dmabuf/uapi': 'src/uapi/index.ts' };

/**
 * What an example may use without making it: a process, a machine, a
 * buffer, a pool, a sync file; raw fds of a heap, a sync file, an sw_sync
 * timeline and another sync file; an ioctl argument and its native address.
 */
const PRELUDE_GIVENS = `
declare const heap: number, fence: number, timeline: number, other: number;
declare const arg: Uint8Array;
declare const base: bigint;
declare const proc: Process;
declare const machine: Machine;
declare const frame: DmaBuffer;
declare const pool: BufferPool;
declare const rendered: SyncFile;
`;

interface Example {
  file: string;
  line: number;
  code: string;
}

const options: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2023.d.ts', 'lib.es2024.sharedmemory.d.ts', 'lib.esnext.disposable.d.ts'],
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: ['node'],
  baseUrl: root,
  paths: Object.fromEntries(Object.entries(ENTRIES).map(([spec, file]) => [spec, [file]])),
};

/** The examples of the doc comments in `file`, with the line each starts on. */
function examplesIn(file: string): Example[] {
  const text = readFileSync(file, 'utf8');
  const found: Example[] = [];
  for (const c of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const body = c[0].split('\n').map((l) => l.replace(/^\s*\/?\*+\/?\s?/, '')).join('\n');
    for (const m of body.matchAll(/@example\s*```ts\n([\s\S]*?)```/g)) {
      const line = text.slice(0, c.index).split('\n').length + body.slice(0, m.index).split('\n').length - 1;
      found.push({ file: relative(root, file), line, code: m[1] });
    }
  }
  return found;
}

test('every @example of the API reference type-checks', () => {
  // The exports of each entry point, and the files that declare them.
  const base = ts.createProgram(Object.values(ENTRIES).map((f) => join(root, f)), options);
  const checker = base.getTypeChecker();
  const scope = new Map<string, { from: string; value: boolean }>();
  const files = new Set<string>();
  for (const [spec, entry] of Object.entries(ENTRIES)) {
    const sf = base.getSourceFile(join(root, entry))!;
    for (const sym of checker.getExportsOfModule(checker.getSymbolAtLocation(sf)!)) {
      const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
      for (const d of target.declarations ?? []) files.add(d.getSourceFile().fileName);
      if (!scope.has(sym.name)) scope.set(sym.name, { from: spec, value: (target.flags & ts.SymbolFlags.Value) !== 0 });
    }
  }
  const examples = [...files].sort().flatMap(examplesIn);
  assert.ok(examples.length >= 60, `only ${examples.length} examples found: is the extraction broken?`);

  // Each example as a module of its own, in the project (so 'node:' types and paths resolve).
  const virtual = new Map<string, Example>();
  const sources = new Map<string, string>();
  examples.forEach((ex, i) => {
    const lines = ex.code.split('\n');
    const imports = lines.filter((l) => /^import\s/.test(l));
    const own = new Set(imports.flatMap((l) => [...(/\{([^}]*)\}/.exec(l)?.[1] ?? '').matchAll(/(?:type\s+)?(\w+)(?:\s+as\s+(\w+))?/g)].map((m) => m[2] ?? m[1])));
    const bySpec = new Map<string, string[]>();
    for (const [name, { from, value }] of scope) {
      if (own.has(name)) continue;
      bySpec.set(from, [...(bySpec.get(from) ?? []), value ? name : `type ${name}`]);
    }
    const prelude = [...bySpec].map(([spec, names]) => `import { ${names.join(', ')} } from '${spec}';`).join('\n');
    const body = lines.filter((l) => !/^import\s/.test(l)).join('\n');
    const path = join(root, 'test', 'docs', `.api-example-${i}.ts`);
    // The prelude is one line per entry point, so diagnostics map back by line offset.
    sources.set(path, `${imports.join('\n')}\n${prelude}\n${PRELUDE_GIVENS}\nexport async function example(): Promise<void> {\n${body}\n}\n`);
    virtual.set(path, ex);
  });
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (sources.has(name) ? ts.createSourceFile(name, sources.get(name)!, lang) : getSourceFile(name, lang, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => sources.has(name) || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => sources.get(name) ?? readFile(name);
  const program = ts.createProgram([...sources.keys()], options, host, base);

  const problems: string[] = [];
  for (const [path, ex] of virtual) {
    for (const d of [...program.getSyntacticDiagnostics(program.getSourceFile(path)), ...program.getSemanticDiagnostics(program.getSourceFile(path))]) {
      const src = sources.get(path)!;
      const at = d.start === undefined ? 0 : src.slice(0, d.start).split('\n').length;
      const bodyStart = src.split('\n').findIndex((l) => l.startsWith('export async function example')) + 2;
      const line = at >= bodyStart ? ex.line + 1 + ex.code.split('\n').filter((l) => /^import\s/.test(l)).length + (at - bodyStart) : ex.line + 1;
      problems.push(`${ex.file}:${line} (example at line ${ex.line}): ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    }
  }
  assert.deepEqual(problems, [], `${problems.length} example problem(s):\n${problems.join('\n')}`);
});
