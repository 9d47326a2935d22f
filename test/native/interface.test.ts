/**
 * The native process offers every call of the emulator's process (and each
 * async twin), so that programs written against one run on the other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Process } from '../../src/machine/process.js';
import { NativeProcess } from '../../src/native/process.js';

const publicMethods = (proto: object): string[] =>
  Object.getOwnPropertyNames(proto).filter((n) => n !== 'constructor' && typeof Object.getOwnPropertyDescriptor(proto, n)?.value === 'function');

test('NativeProcess has every method of Process, and `exited`', () => {
  const emulated = publicMethods(Process.prototype).filter((n) => {
    // private helpers of the emulator's transport are not part of the interface
    return !['submit', 'collect', 'callSync', 'spin', 'callAsync', 'check', 'mapped'].includes(n);
  });
  const native = new Set(publicMethods(NativeProcess.prototype));
  const missing = emulated.filter((n) => !native.has(n));
  assert.deepEqual(missing, [], 'methods the native process lacks');
  assert.ok(emulated.includes('ioctlAsync') && emulated.length > 30, 'the list is the real one');
  assert.ok(Object.getOwnPropertyDescriptor(NativeProcess.prototype, 'exited')?.get);
});
