/**
 * A machine's lifecycle as a Node program sees it: a finished program
 * exits even if it forgot shutdown(); a pending call keeps it alive; after
 * shutdown every method fails at once (EIO) except shutdown itself;
 * `await using` and `using` work.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { boot } from '../../src/machine/boot.js';
import { SyscallError } from '../../src/machine/errors.js';

const indexUrl = new URL('../../src/index.js', import.meta.url).href;

/** Run an ES module program in a fresh node; its exit code and output, or a failure after `ms`. */
function runProgram(source: string, ms = 30_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const file = join(mkdtempSync(join(tmpdir(), 'dmabuf-lifecycle-')), 'program.mjs');
    writeFileSync(file, source);
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the program did not exit within ${ms} ms:\n${out}`));
    }, ms);
    child.on('exit', (code) => {
      clearTimeout(timer);
      rmSync(dirname(file), { recursive: true, force: true });
      resolve({ code, out });
    });
  });
}

describe('machine lifecycle', () => {
  test('a program that has finished exits even though it never called shutdown()', async () => {
    const r = await runProgram(`
      const { boot } = await import(${JSON.stringify(indexUrl)});
      const machine = await boot();
      const proc = machine.spawn('forgetful');
      const fd = proc.open('/dev/dma_heap/system', 2);
      console.log('opened', fd);
      // no close, no exit, no shutdown
    `);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /opened 3/);
  });

  test('a call in flight keeps the program alive until it is answered', async () => {
    const r = await runProgram(`
      const { boot } = await import(${JSON.stringify(indexUrl)});
      const machine = await boot();
      const proc = machine.spawn('waiting');
      const fd = proc.open('/sys/kernel/debug/sync/sw_sync', 2);
      const arg = new Uint8Array(40); new DataView(arg.buffer).setUint32(0, 1, true);
      proc.ioctl(fd, 0xc0285700, arg);
      const fence = new DataView(arg.buffer).getInt32(36, true);
      const t0 = Date.now();
      // Nothing else keeps the event loop alive while this poll waits out its timeout.
      const n = await proc.pollAsync([{ fd: fence, events: 1 }], 300);
      console.log('poll', n, Date.now() - t0 >= 250 ? 'after the timeout' : 'too early');
      const stats = await machine.stats();
      console.log('processes', stats.processes);
    `);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /poll 0 after the timeout/);
    assert.match(r.out, /processes 1/);
  });

  test('after shutdown every machine method fails at once with EIO; shutdown resolves again to the same answer', async () => {
    const m = await boot();
    const first = await m.shutdown();
    const again = await m.shutdown();
    assert.deepEqual(again, first);
    for (const [name, call] of [
      ['stats', () => m.stats()],
      ['dmesg', () => m.dmesg()],
      ['traceStart', () => m.traceStart()],
      ['traceStop', () => m.traceStop()],
      ['kernelHeap', () => m.kernelHeap()],
      ['kill', () => m.kill(1, 15)],
    ] as const) {
      await assert.rejects(call(), (e) => e instanceof SyscallError && e.code === 'EIO', name);
    }
    assert.throws(() => m.spawn(), { code: 'EIO' });
    assert.throws(() => m.channel(), { code: 'EIO' });
  });

  test('await using shuts the machine down at the end of the block; using exits a process', async () => {
    let proc: import('../../src/machine/process.js').Process | null = null;
    let machine: import('../../src/machine/boot.js').Machine | null = null;
    {
      await using m = await boot();
      machine = m;
      {
        using p = m.spawn('scoped');
        proc = p;
        p.open('/dev/udmabuf', 2);
        assert.equal((await m.stats()).processes, 1);
      }
      assert.equal(proc.exited, true);
      assert.equal((await m.stats()).processes, 0);
    }
    await assert.rejects(machine.stats(), { code: 'EIO' });
  });
});
