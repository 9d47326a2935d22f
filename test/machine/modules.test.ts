/**
 * Loadable modules: insmod runs a module's init, which registers a
 * character device through the built-in drivers' API; a module in use
 * cannot be removed (delete_module: -EWOULDBLOCK, i.e. EAGAIN, while a
 * device file of it is open or a dma-buf it exported is alive —
 * kernel/module/main.c try_stop_module, and dma_buf_export's
 * try_module_get(exp_info->owner)); a module whose init fails leaves
 * nothing registered. The module is the exporter guide's example.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { useMachine } from '../helpers/machine.js';
import * as u from '../../src/uapi/index.js';
import type { Machine, Process } from '../../src/index.js';

const root = new URL('../../../', import.meta.url);
const ramexp = new URL('examples/user-exporter/ramexp.mjs', root);
const fixture = (name: string): URL => new URL(`../fixtures/modules/${name}.js`, import.meta.url);

async function allocate(proc: Process, dev: number): Promise<number> {
  const { ramexp_alloc, RAMEXP_IOC_ALLOC } = (await import(ramexp.href)) as { ramexp_alloc: u.AnyStruct; RAMEXP_IOC_ALLOC: number };
  const arg = ramexp_alloc.encode({ size: 4096n, flags: u.O_RDWR });
  proc.ioctl(dev, RAMEXP_IOC_ALLOC, arg);
  return ramexp_alloc.decode(arg).fd as number;
}

const modules = async (m: Machine, proc: Process): Promise<string> => proc.readFile('/proc/modules');

describe('loadable modules', () => {
  const machine = useMachine();

  test('insmod registers the module\'s device; rmmod is EAGAIN while it is open or a buffer it exported lives', async () => {
    const m = await machine();
    using proc = m.spawn('user');
    assert.equal(await m.insmod(ramexp), 'ramexp');
    assert.equal(await modules(m, proc), 'ramexp 0 0 - Live 0x0000000000000000\n');
    const dev = proc.open('/dev/ramexp', u.O_RDWR);
    assert.match(await modules(m, proc), /^ramexp 0 1 /, 'the open file holds the module');
    await assert.rejects(m.rmmod('ramexp'), { code: 'EAGAIN', syscall: 'delete_module' });
    const buf = await allocate(proc, dev);
    proc.close(dev);
    assert.match(await modules(m, proc), /^ramexp 0 1 /, 'now the dma-buf holds it');
    await assert.rejects(m.rmmod('ramexp'), { code: 'EAGAIN' });
    assert.match(proc.readlink(`/proc/self/fd/${buf}`), /^\/dmabuf:/);
    proc.close(buf);
    await m.rmmod('ramexp');
    assert.equal(await modules(m, proc), '');
    assert.throws(() => proc.open('/dev/ramexp', u.O_RDWR), { code: 'ENOENT' });
    assert.ok(!('ramexp_exported' in (await m.stats())), 'its counter went with it');
    await assert.rejects(m.rmmod('ramexp'), { code: 'ENOENT' });
  });

  test('a module loads once: a second insmod is EEXIST; it can be loaded again after rmmod', async () => {
    const m = await machine();
    await m.insmod(ramexp);
    await assert.rejects(m.insmod(ramexp), { code: 'EEXIST', syscall: 'init_module' });
    await m.rmmod('ramexp');
    await m.insmod(fileURLToPath(ramexp));
    await m.rmmod('ramexp');
  });

  test('a module whose init throws or fails leaves nothing registered, and the error says why', async () => {
    const m = await machine();
    using proc = m.spawn('user');
    await assert.rejects(m.insmod(fixture('throws')), (e: Error & { code?: string }) => e.code === 'EINVAL' && /the hardware is not there/.test(e.message));
    await assert.rejects(m.insmod(fixture('nodev')), { code: 'ENODEV' });
    assert.deepEqual(proc.readdir('/dev').filter((n) => n === 'throws' || n === 'nodev'), []);
    assert.ok(!('throws_counter' in (await m.stats())));
    assert.equal(await modules(m, proc), '');
    assert.match(await m.dmesg(), /throws: init failed: the hardware is not there/);
    await assert.rejects(m.insmod(fixture('not-a-module')), { code: 'EINVAL' });
    await assert.rejects(m.insmod(new URL('../fixtures/modules/no-such-file.js', import.meta.url)), { code: 'ENOENT' });
  });

  test('the exporter guide\'s complete example runs: a worker imports the module\'s buffer into vgem and reads it', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [fileURLToPath(new URL('examples/user-exporter/main.mjs', root))], { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
    });
    assert.deepEqual(out.trim().split('\n'), [
      'ramexp 0 0 - Live 0x0000000000000000',
      '/dmabuf: 8192n',
      'hello from ramexp (MODE_MAP_DUMB of the import: EINVAL)',
      'EAGAIN delete_module',
      'false',
      '{"dmabufs":0,"fences":0,"inFlight":0,"pages":0,"processes":0,"taint":0,"waiters":0}',
    ]);
  });
});
