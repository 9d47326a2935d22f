/**
 * WARN and BUG (include/asm-generic/bug.h) and the taint mask
 * (kernel/panic.c). A WARN logs a warning with the caller and taints with
 * TAINT_WARN; the caller then fails with Linux's errno. A BUG logs, taints
 * with TAINT_DIE and throws KernelBug: the test harness fails any test that
 * ends with the kernel tainted by a BUG or with a WARN it did not expect.
 */
import { KERN_EMERG, KERN_WARNING, printk } from './printk.js';
import { statsRegister } from './stats.js';

/** Taint bits, with Linux's numbers (include/linux/panic.h). */
export const TAINT_DIE = 7;
export const TAINT_WARN = 9;

const TAINT_LETTERS: Record<number, string> = { [TAINT_DIE]: 'D', [TAINT_WARN]: 'W' };

let taintMask = 0;
let warnCount = 0;

/** add_taint() */
export function addTaint(bit: number): void {
  taintMask |= 1 << bit;
}

/** get_taint(): the taint bitmask. */
export function getTaint(): number {
  return taintMask;
}

/** The taint letters, as in `Tainted: D W` of an oops header. */
export function taintString(): string {
  return Object.keys(TAINT_LETTERS)
    .map(Number)
    .filter((b) => taintMask & (1 << b))
    .map((b) => TAINT_LETTERS[b])
    .join(' ');
}

/** Number of WARNs fired since boot. */
export function warnings(): number {
  return warnCount;
}

/** Thrown by BUG/BUG_ON: the kernel hit an impossible state. */
export class KernelBug extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KernelBug';
  }
}

/** The first stack frame outside this file: where the WARN/BUG was hit. */
function caller(): string {
  const stack = new Error().stack?.split('\n') ?? [];
  for (const line of stack.slice(1)) {
    if (!line.includes('/lib/bug.')) return line.trim().replace(/^at /, '');
  }
  return '?';
}

/**
 * WARN(cond, text): if cond, log a warning and taint; returns cond.
 * `text` is evaluated by the caller even when cond is false: a message
 * built from a template belongs behind an `if (cond)` on hot paths.
 */
export function WARN(cond: unknown, text = ''): boolean {
  if (!cond) return false;
  warnCount++;
  addTaint(TAINT_WARN);
  printk(KERN_WARNING, `WARNING: at ${caller()}${text ? `: ${text}` : ''}`);
  return true;
}

/** WARN_ON(cond) */
export function WARN_ON(cond: unknown): boolean {
  return WARN(cond);
}

const warnedOnce = new Set<string>();

/** WARN_ON_ONCE(cond): warns only the first time per call site. */
export function WARN_ON_ONCE(cond: unknown, text = ''): boolean {
  if (!cond) return false;
  const site = caller();
  if (!warnedOnce.has(site)) {
    warnedOnce.add(site);
    WARN(true, text);
  }
  return true;
}

/** BUG(): log, taint with TAINT_DIE and throw KernelBug. */
export function BUG(text = 'BUG'): never {
  addTaint(TAINT_DIE);
  const where = caller();
  printk(KERN_EMERG, `kernel BUG at ${where}: ${text}`);
  throw new KernelBug(`kernel BUG at ${where}: ${text}`);
}

/** BUG_ON(cond) */
export function BUG_ON(cond: unknown, text = 'BUG_ON'): void {
  if (cond) BUG(text);
}

/** Registers the taint mask with the kernel's counters (Machine.stats().taint). */
export function taintInit(): number {
  return statsRegister('taint', getTaint);
}
