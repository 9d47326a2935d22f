/**
 * The native process offers every call of the process interface and each
 * async twin, as the emulator's does, so that programs written against one
 * run on the other. The compiler checks the types (both classes implement
 * ProcessLike); this checks what exists at run time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Process, SYSCALL_METHODS } from '../../src/machine/process.js';
import { NativeProcess } from '../../src/native/process.js';

test('NativeProcess and Process have every syscall method and its async twin, onSignal, exited and killedBy', () => {
  const names = [...SYSCALL_METHODS, ...SYSCALL_METHODS.map((n) => `${n}Async`), 'onSignal'];
  assert.ok(names.includes('ioctlAsync') && names.length > 50, 'the list is the real one');
  for (const proto of [Process.prototype, NativeProcess.prototype]) {
    const missing = names.filter((n) => typeof (proto as unknown as Record<string, unknown>)[n] !== 'function');
    assert.deepEqual(missing, [], `methods ${proto.constructor.name} lacks`);
    for (const getter of ['exited', 'killedBy']) assert.ok(Object.getOwnPropertyDescriptor(proto, getter)?.get, `${proto.constructor.name}.${getter}`);
  }
});
