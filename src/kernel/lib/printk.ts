/**
 * printk and the kernel log ring (what `dmesg` reads). One ring per kernel
 * thread. Tests read it to assert on warnings; nothing here throws.
 */
import { bootKtime, ktimeGet, NSEC_PER_SEC } from './time.js';

export const KERN_EMERG = 0;
export const KERN_ALERT = 1;
export const KERN_CRIT = 2;
export const KERN_ERR = 3;
export const KERN_WARNING = 4;
export const KERN_NOTICE = 5;
export const KERN_INFO = 6;
export const KERN_DEBUG = 7;

export interface LogRecord {
  /** sequence number, from 0, never reused */
  seq: number;
  level: number;
  /** ns since boot */
  ts: number;
  text: string;
}

/** Records kept before the oldest is dropped (a ring, like the log buffer). */
export const LOG_RING_SIZE = 8192;

const ring: LogRecord[] = [];
let nextSeq = 0;
type Listener = (r: LogRecord) => void;
const listeners = new Set<Listener>();

/** printk(level, text): append one record per line. */
export function printk(level: number, text: string): void {
  for (const line of text.replace(/\n$/, '').split('\n')) {
    const r: LogRecord = { seq: nextSeq++, level, ts: ktimeGet() - bootKtime, text: line };
    if (ring.length >= LOG_RING_SIZE) ring.shift();
    ring.push(r);
    for (const l of listeners) l(r);
  }
}

export const pr_emerg = (t: string): void => printk(KERN_EMERG, t);
export const pr_err = (t: string): void => printk(KERN_ERR, t);
export const pr_warn = (t: string): void => printk(KERN_WARNING, t);
export const pr_notice = (t: string): void => printk(KERN_NOTICE, t);
export const pr_info = (t: string): void => printk(KERN_INFO, t);
export const pr_debug = (t: string): void => printk(KERN_DEBUG, t);

/** The records currently in the ring with seq >= `since`. */
export function logRecords(since = 0): LogRecord[] {
  return ring.filter((r) => r.seq >= since);
}

/** The sequence number the next record will get. */
export function logNextSeq(): number {
  return nextSeq;
}

/** One record as dmesg prints it: `[    1.234567] text`. */
export function formatRecord(r: LogRecord): string {
  const sec = Math.floor(r.ts / NSEC_PER_SEC);
  const usec = Math.floor((r.ts % NSEC_PER_SEC) / 1000);
  return `[${String(sec).padStart(5, ' ')}.${String(usec).padStart(6, '0')}] ${r.text}`;
}

/** The whole ring as `dmesg` prints it. */
export function dmesg(minLevel = KERN_DEBUG): string {
  return ring.filter((r) => r.level <= minLevel).map((r) => formatRecord(r) + '\n').join('');
}

/** Subscribe to new records (e.g. to echo them); returns an unsubscribe function. */
export function onPrintk(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}
