/**
 * do_initcalls() (init/main.c): every level in order, each level's calls
 * in link order; a failing initcall is logged and boot goes on. And what
 * start_kernel leaves registered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../helpers/harness.js';
import { doInitcalls, initcalls, INITCALL_LEVELS, startKernel, type Initcall } from '../../src/kernel/init.js';
import { statsNames } from '../../src/kernel/lib/stats.js';
import { kerr, EBUSY, ENODEV } from '../../src/kernel/lib/errno.js';
import { logNextSeq, logRecords } from '../../src/kernel/lib/printk.js';

test('initcalls run level by level, in list order within a level; a failure is logged and the rest still run', () => {
  const ran: string[] = [];
  const call = (name: string, level: Initcall['level'], fn: () => number | void = () => 0): Initcall => ({ name, level, fn: () => (ran.push(name), fn()) });
  const seq = logNextSeq();
  doInitcalls([
    call('late_a', 'late'),
    call('dev_a', 'device'),
    call('core_a', 'core'),
    call('dev_b', 'device', () => -ENODEV),
    call('fs_a', 'fs', () => {
      throw kerr(-EBUSY, 'in use');
    }),
    call('subsys_a', 'subsys'),
  ]);
  assert.deepEqual(ran, ['core_a', 'subsys_a', 'fs_a', 'dev_a', 'dev_b', 'late_a']);
  const log = logRecords(seq).map((r) => r.text).join('\n');
  assert.match(log, /initcall dev_b failed: ENODEV/);
  assert.match(log, /initcall fs_a failed: EBUSY/);
  assert.throws(() => doInitcalls([call('bug', 'core', () => {
    throw new TypeError('not an errno');
  })]), TypeError, 'a kernel bug is no errno: it is not swallowed');
});

test('the kernel\'s initcall table uses known levels and names each call once', () => {
  assert.ok(initcalls.every((c) => INITCALL_LEVELS.includes(c.level)));
  assert.equal(new Set(initcalls.map((c) => c.name)).size, initcalls.length);
});

test('start_kernel registers the counters Machine.stats() reports, and runs once', () => {
  assert.equal(startKernel(), 0);
  for (const name of ['dmabufs', 'pages', 'inFlight', 'processes', 'taint', 'fences']) assert.ok(statsNames().includes(name), name);
  assert.equal(startKernel(), -EBUSY);
});
