/**
 * Benchmark helpers. A figure alone means nothing on a shared machine, so
 * every benchmark measures its baseline in the same run, interleaving the
 * two (A B A B ...) and keeping the best round of each.
 */
export interface Row {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  /** ratio = value / baseline (or baseline / value when lowerIsBetter) */
  ratio?: number;
  target?: string;
  pass?: boolean;
  note?: string;
}

/** Operations per second of `fn(n)` which runs n operations; best of `rounds` rounds of at least `ms`. */
export function opsPerSec(fn: (n: number) => void, ms = 300): number {
  let n = 1;
  // Calibrate: grow n until one call takes at least ms/4.
  for (;;) {
    const t0 = performance.now();
    fn(n);
    const dt = performance.now() - t0;
    if (dt >= ms / 4 || n >= 1 << 30) break;
    n *= dt < 1 ? 8 : 2;
  }
  const t0 = performance.now();
  fn(n);
  return (n * 1000) / (performance.now() - t0);
}

/** Async variant: fn(n) resolves when n operations completed. */
export async function opsPerSecAsync(fn: (n: number) => Promise<void>, ms = 300): Promise<number> {
  let n = 1;
  for (;;) {
    const t0 = performance.now();
    await fn(n);
    const dt = performance.now() - t0;
    if (dt >= ms / 4 || n >= 1 << 30) break;
    n *= dt < 1 ? 8 : 2;
  }
  const t0 = performance.now();
  await fn(n);
  return (n * 1000) / (performance.now() - t0);
}

/** Interleave measurements of A and B for `rounds` rounds; best of each. */
export function compare(a: () => number, b: () => number, rounds = 5): [number, number] {
  let ba = 0;
  let bb = 0;
  for (let i = 0; i < rounds; i++) {
    ba = Math.max(ba, a());
    bb = Math.max(bb, b());
  }
  return [ba, bb];
}

export async function compareAsync(a: () => Promise<number>, b: () => Promise<number>, rounds = 5): Promise<[number, number]> {
  let ba = 0;
  let bb = 0;
  for (let i = 0; i < rounds; i++) {
    ba = Math.max(ba, await a());
    bb = Math.max(bb, await b());
  }
  return [ba, bb];
}

export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

export function fmt(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(n < 10 ? 2 : 0);
}

export function printRows(title: string, rows: Row[]): void {
  console.log(`\n## ${title}\n`);
  console.log('| benchmark | result | baseline | ratio | target | ok |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const base = r.baseline ? `${fmt(r.baseline.value)} ${r.unit} (${r.baseline.name})` : '';
    const ratio = r.ratio !== undefined ? `${r.ratio.toFixed(2)}x` : '';
    const ok = r.pass === undefined ? '' : r.pass ? 'yes' : 'NO';
    console.log(`| ${r.name} | ${fmt(r.value)} ${r.unit}${r.note ? ` (${r.note})` : ''} | ${base} | ${ratio} | ${r.target ?? ''} | ${ok} |`);
  }
}
