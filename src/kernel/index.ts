/**
 * The kernel face: the in-kernel API drivers program against. Names follow
 * Linux (see docs/kernel-map.md for the Linux name of each symbol).
 */
export * from './lib/errno.js';
export * from './lib/bug.js';
export * from './lib/printk.js';
export * from './lib/kref.js';
export * from './lib/time.js';
export * from './lib/trace.js';
export * from './lib/failslab.js';
export * from './lib/string.js';
export type { Out } from './lib/out.js';
export * from './fence/dma-fence.js';
export * from './fence/dma-fence-array.js';
export * from './fence/dma-fence-chain.js';
export * from './fence/dma-fence-unwrap.js';
export * from './sync/sync-file.js';
export * from './sync/sw-sync.js';
