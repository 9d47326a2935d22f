/**
 * A bounded run of the userspace-ABI fuzzer (the long one is `npm run
 * fuzz`): four processes on worker threads making random syscalls with
 * valid, boundary and random struct bytes, passing fds, killed at random.
 * Every failure must be an errno Linux returns for that call, the kernel
 * must never WARN or taint, and once every process is gone the machine
 * holds nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFuzz } from './fuzz.js';

test('fuzz: 25,000 syscalls over 4 concurrent processes, random kills: Linux errnos only, no WARN, nothing left', async () => {
  const r = await runFuzz({ processes: 4, syscalls: 25_000, seed: 20261121, killsPerSecond: 2, perAgent: 3000 });
  assert.deepEqual(r.findings, [], 'every failure is an errno Linux gives for that call');
  assert.deepEqual(r.warnings, [], 'no WARN or BUG in the kernel log');
  assert.ok(r.syscalls >= 25_000);
  assert.ok(r.agents >= 8, `processes came and went (${r.agents})`);
  assert.ok(Object.keys(r.errnos).length > 10, 'the run reached many error paths');
  assert.deepEqual(r.left, { dmabufs: 0, pages: 0, inFlight: 0, processes: 0, taint: 0, fences: 0, waiters: 0 });
});
