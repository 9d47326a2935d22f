/**
 * The import graph of src/ and the rules of docs/layering.json applied to
 * it: which imports break the layering, which files import each other in a
 * cycle, and where an errno is written as a number (layering.test.ts
 * asserts there are none and prints what it finds).
 */
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface Rules {
  layers: { name: string; path: string; mayImport: string[] }[];
  faces: { name: string; layer: string; file: string }[];
  kernelOrder: { root: string; order: string[] };
  errno: { definedIn: string[]; scan: string };
}

export function loadRules(): Rules {
  return JSON.parse(readFileSync(join(repoRoot, 'docs', 'layering.json'), 'utf8')) as Rules;
}

/** One import of a file of ours (or of anything else: `to` is null then). */
export interface ImportEdge {
  from: string;
  to: string | null;
  spec: string;
  line: number;
  typeOnly: boolean;
}

/** Every .ts file under `dir` (repository-relative, '/'-separated). */
export function sourceFiles(dir = 'src'): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(join(repoRoot, d)).sort()) {
      const p = `${d}/${name}`;
      if (statSync(join(repoRoot, p)).isDirectory()) walk(p);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(join(repoRoot, file), 'utf8'), ts.ScriptTarget.ES2022, true);
}

/** The file a relative specifier names ('./x.js' is x.ts), repository-relative; null for packages and node: modules. */
function resolveSpec(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const abs = resolve(repoRoot, dirname(from), spec);
  const candidates = [abs.replace(/\.js$/, '.ts'), `${abs}.ts`, join(abs, 'index.ts'), abs];
  const hit = candidates.find((c) => existsSync(c) && statSync(c).isFile()) ?? candidates[0];
  return relative(repoRoot, hit).split(sep).join('/');
}

/** Every import of `file`: import/export-from declarations, import(), import types and module augmentations. */
export function importsOf(file: string): ImportEdge[] {
  const sf = parse(file);
  const out: ImportEdge[] = [];
  const add = (node: ts.Node, spec: ts.Expression | undefined, typeOnly: boolean): void => {
    if (!spec || !ts.isStringLiteralLike(spec)) return;
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    out.push({ from: file, to: resolveSpec(file, spec.text), spec: spec.text, line, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const c = node.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : null;
      const typeOnly = !!c && (c.isTypeOnly || (!c.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(node, node.moduleSpecifier, typeOnly);
    } else if (ts.isExportDeclaration(node)) {
      add(node, node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression, node.isTypeOnly);
    } else if (ts.isModuleDeclaration(node) && ts.isStringLiteral(node.name)) {
      add(node, node.name, true);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, node.arguments[0], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, node.argument.literal as ts.Expression, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The layer a file belongs to (the longest matching path), or null. */
function layerOf(rules: Rules, file: string): string | null {
  let best: { name: string; path: string } | null = null;
  for (const l of rules.layers) {
    if ((file === l.path || file.startsWith(`${l.path}/`)) && (!best || l.path.length > best.path.length)) best = l;
  }
  return best?.name ?? null;
}

/** The kernel folder of a file ('fs'), '' for a file at the kernel root, null outside the kernel. */
function kernelFolder(rules: Rules, file: string): string | null {
  const root = `${rules.kernelOrder.root}/`;
  if (!file.startsWith(root)) return null;
  const rest = file.slice(root.length);
  return rest.includes('/') ? rest.slice(0, rest.indexOf('/')) : '';
}

/** Why an import breaks the rules, or null when it is allowed. */
export function violation(rules: Rules, e: ImportEdge): string | null {
  if (!e.to || !e.to.startsWith('src/')) return null;
  const from = layerOf(rules, e.from);
  const to = layerOf(rules, e.to);
  if (!from) return `${e.from} is in no layer of docs/layering.json`;
  if (!to) return `${e.to} is in no layer of docs/layering.json`;
  if (from !== to) {
    const allowed = rules.layers.find((l) => l.name === from)!.mayImport;
    if (allowed.includes(to)) return null;
    const face = rules.faces.find((f) => f.layer === to && allowed.includes(f.name));
    if (face && e.to === face.file) return null;
    if (face) return `${from} may import ${to} only through ${face.file}`;
    return `${from} may not import ${to} (${from} imports ${allowed.length ? allowed.join(', ') : 'nothing of ours'})`;
  }
  const a = kernelFolder(rules, e.from);
  const b = kernelFolder(rules, e.to);
  if (a === null || b === null || a === b) return null;
  const order = rules.kernelOrder.order;
  if (a === '') return null; // the kernel root files sit above every folder
  if (!order.includes(a)) return `kernel/${a} is not in the kernel order of docs/layering.json`;
  if (b === '') return `kernel/${a} may not import the kernel root file ${e.to} (it sits above every folder)`;
  if (!order.includes(b)) return `kernel/${b} is not in the kernel order of docs/layering.json`;
  if (order.indexOf(b) > order.indexOf(a)) return `kernel/${a} may not import kernel/${b}: inside the kernel an import points down (${order.join(' < ')})`;
  return null;
}

/** The import graph of the files under src: file -> the files it imports. */
export function importGraph(files: string[]): Map<string, ImportEdge[]> {
  return new Map(files.map((f) => [f, importsOf(f).filter((e) => e.to !== null && e.to.startsWith('src/'))]));
}

/** The import cycles: each strongly connected group of files, as one cycle through it (first file repeated at the end). */
export function importCycles(graph: Map<string, ImportEdge[]>): string[][] {
  // Tarjan's strongly connected components.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const strong = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const e of graph.get(v) ?? []) {
      const w = e.to!;
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      const selfLoop = (graph.get(v) ?? []).some((e) => e.to === v);
      if (group.length > 1 || selfLoop) groups.push(group);
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strong(v);
  // One concrete cycle per group (a shortest path from its first file back to it, inside the group).
  return groups.map((g) => {
    const members = new Set(g);
    const start = [...g].sort()[0];
    const prev = new Map<string, string>();
    const queue = [start];
    let end: string | null = null;
    while (queue.length && !end) {
      const v = queue.shift()!;
      for (const e of graph.get(v) ?? []) {
        if (!members.has(e.to!)) continue;
        if (e.to === start) {
          end = v;
          break;
        }
        if (!prev.has(e.to!)) {
          prev.set(e.to!, v);
          queue.push(e.to!);
        }
      }
    }
    const path = [start];
    for (let v = end!; v !== start; v = prev.get(v)!) path.splice(1, 0, v);
    path.push(start);
    return path;
  });
}

/** A numeric errno found in code. */
export interface ErrnoLiteral {
  file: string;
  line: number;
  text: string;
}

const ERRNO_CALLEES = new Set(['SyscallError', 'KernelError', 'kerr']);
const ERRNO_NAMES = /^(ret|err|error|errno|rc)$/;

/**
 * Numbers written where an errno belongs: a negative literal whose value
 * is an errno (-2 and up: -1 is too common a sentinel to tell), and any
 * literal given as the errno of SyscallError/KernelError/kerr or assigned
 * to a `ret`/`err`/`errno` variable, property or element.
 */
export function errnoLiterals(files: string[], errnoValues: Set<number>): ErrnoLiteral[] {
  const out: ErrnoLiteral[] = [];
  for (const file of files) {
    const sf = parse(file);
    const report = (node: ts.Node): void => {
      out.push({ file, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, text: node.parent.getText(sf).slice(0, 120) });
    };
    const literalValue = (node: ts.Expression): number | null => {
      if (ts.isNumericLiteral(node)) return Number(node.text);
      if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(node.operand)) return -Number(node.operand.text);
      return null;
    };
    const targetName = (node: ts.Node): string | null => {
      if (ts.isIdentifier(node)) return node.text;
      if (ts.isPropertyAccessExpression(node)) return node.name.text;
      if (ts.isElementAccessExpression(node)) return targetName(node.expression);
      return null;
    };
    const visit = (node: ts.Node): void => {
      if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(node.operand)) {
        const v = Number(node.operand.text);
        if (v >= 2 && errnoValues.has(v)) report(node);
      } else if ((ts.isNewExpression(node) || ts.isCallExpression(node)) && node.arguments?.length) {
        const callee = ts.isIdentifier(node.expression) ? node.expression.text : ts.isPropertyAccessExpression(node.expression) ? node.expression.name.text : '';
        const v = literalValue(node.arguments[0]);
        if (ERRNO_CALLEES.has(callee) && v !== null && Math.abs(v) >= 1 && !(v <= -2 && errnoValues.has(-v))) report(node.arguments[0]);
      } else if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
        const v = literalValue(node.right);
        const name = targetName(node.left);
        if (v !== null && v < 0 && v > -2 && name && ERRNO_NAMES.test(name)) report(node.right);
      } else if (ts.isVariableDeclaration(node) && node.initializer && ts.isIdentifier(node.name) && ERRNO_NAMES.test(node.name.text)) {
        const v = literalValue(node.initializer);
        if (v !== null && v < 0 && v > -2) report(node.initializer);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return out;
}

/** The whole report: violations, cycles, errno literals (what the test checks and the command prints). */
export function analyse(errnoValues: Set<number>): { edges: ImportEdge[]; violations: { edge: ImportEdge; why: string }[]; cycles: string[][]; errno: ErrnoLiteral[] } {
  const rules = loadRules();
  const files = sourceFiles('src');
  const graph = importGraph(files);
  const edges = [...graph.values()].flat();
  const violations = edges.flatMap((edge) => {
    const why = violation(rules, edge);
    return why ? [{ edge, why }] : [];
  });
  const scanned = sourceFiles(rules.errno.scan).filter((f) => !rules.errno.definedIn.includes(f));
  return { edges, violations, cycles: importCycles(graph), errno: errnoLiterals(scanned, errnoValues) };
}
