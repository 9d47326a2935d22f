/**
 * The native backend's per-call cost: an ioctl and an lseek through the
 * process interface (ownership check, errno handling, koffi), and the bare
 * koffi binding under it, against a real syscall made by Node itself
 * (fs.readSync of 1 byte from /dev/null), measured in the same run.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { compare, opsPerSec, type Row } from './harness.js';
import { bootNative } from '../src/native/machine.js';
import { loadLibc } from '../src/native/libc.js';
import { SEEK_SET } from '../src/uapi/fcntl.js';

export const title = 'native backend: per-call cost on the host kernel';

const FIONREAD = 0x541b;

export async function run(): Promise<Row[]> {
  let machine;
  try {
    machine = await bootNative();
  } catch (e) {
    return [{ name: 'native backend unavailable', value: 0, unit: '', note: (e as Error).message }];
  }
  const libc = loadLibc();
  const proc = machine.spawn('bench');
  const rows: Row[] = [];
  try {
    const nul = openSync('/dev/null', 'r');
    const one = Buffer.alloc(1);
    const [a] = proc.socketpair();
    const memfd = proc.memfdCreate('bench');
    const arg = new Uint8Array(4);
    const us = (ops: number): number => 1e6 / ops;
    const readSyncOps = (): number => opsPerSec((n) => {
      for (let i = 0; i < n; i++) readSync(nul, one, 0, 1, null);
    });
    const measure = (name: string, fn: (n: number) => void, target?: number): void => {
      const [base, ops] = compare(readSyncOps, () => opsPerSec(fn));
      const value = us(ops);
      const real = us(base);
      rows.push({
        name, value, unit: 'µs', baseline: { name: 'readSync 1 B /dev/null', value: real }, ratio: value / real,
        ...(target ? { target: `≤ ${target}x readSync`, pass: value <= target * real } : {}),
      });
    };
    measure('koffi ioctl(FIONREAD) binding alone', (n) => {
      for (let i = 0; i < n; i++) libc.ioctlPtr(a, FIONREAD, arg);
    });
    measure('NativeProcess.ioctl(socket, FIONREAD, arg)', (n) => {
      for (let i = 0; i < n; i++) proc.ioctl(a, FIONREAD, arg);
    }, 1.5);
    measure('NativeProcess.lseek(memfd, 0, SEEK_SET)', (n) => {
      for (let i = 0; i < n; i++) proc.lseek(memfd, 0, SEEK_SET);
    }, 1.5);
    closeSync(nul);
  } finally {
    proc.exit();
    await machine.shutdown();
  }
  return rows;
}
