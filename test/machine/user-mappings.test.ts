/**
 * What JavaScript cannot enforce, detected after the fact under this
 * project's switch DMABUF_CHECK_USER_MAPPINGS: on Linux a write through a
 * PROT_READ mapping faults at once (error 7: present, write, user), and so
 * does one through an address unmapped (error 6); the process dies of
 * SIGSEGV and the kernel logs show_signal_msg()'s line
 * (arch/x86/mm/fault.c). Here the write lands, and is found at the
 * process's next munmap, DMA_BUF_IOCTL_SYNC end or exit.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnWorker, useMachine } from '../helpers/machine.js';
import { SIGSEGV } from '../../src/uapi/signal.js';

const ALLOC = `
  const heap = proc.open('/dev/dma_heap/system', u.O_RDWR);
  const a = new Uint8Array(24); new DataView(a.buffer).setBigUint64(0, 8192n, true); new DataView(a.buffer).setUint32(12, u.O_RDWR, true);
  proc.ioctl(heap, u.DMA_HEAP_IOCTL_ALLOC, a);
  const buf = new DataView(a.buffer).getUint32(8, true);
  const sync = (flags) => { const s = new Uint8Array(8); new DataView(s.buffer).setBigUint64(0, BigInt(flags), true); proc.ioctl(buf, u.DMA_BUF_IOCTL_SYNC, s); };
`;

describe('writes Linux would fault on (DMABUF_CHECK_USER_MAPPINGS)', () => {
  const machine = useMachine({ kconfig: { DMABUF_CHECK_USER_MAPPINGS: true } });

  test('a write through a PROT_READ mapping ends the process with SIGSEGV at its DMA_BUF_IOCTL_SYNC end', async () => {
    const m = await machine();
    const w = spawnWorker(m, `${ALLOC}
      const ro = proc.mmap(8192, u.PROT_READ, u.MAP_SHARED, buf);
      sync(u.DMA_BUF_SYNC_START | u.DMA_BUF_SYNC_READ);
      ro[100] = 42; // Linux: SIGSEGV here
      sync(u.DMA_BUF_SYNC_END | u.DMA_BUF_SYNC_READ);
      return 'survived';
    `);
    void w.result.catch(() => {});
    assert.equal(await w.exited, 128 + SIGSEGV);
    assert.match(await m.dmesg(), /worker\[\d+\]: segfault at 7f[0-9a-f]+ ip 0000000000000000 sp 0000000000000000 error 7 in dma-buf mapping \(written through PROT_READ/);
  });

  test('a write through a view kept after munmap is found at the next munmap (error 6: no page there)', async () => {
    const m = await machine();
    const w = spawnWorker(m, `${ALLOC}
      const rw = proc.mmap(8192, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, buf);
      const mfd = proc.memfdCreate('other');
      proc.ftruncate(mfd, 4096);
      const other = proc.mmap(4096, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, mfd);
      proc.munmap(rw);
      rw[0] = 1; // Linux: SIGSEGV here
      proc.munmap(other); // the next munmap finds it
      return 'survived';
    `);
    void w.result.catch(() => {});
    assert.equal(await w.exited, 128 + SIGSEGV);
    assert.match(await m.dmesg(), /error 6 in dma-buf mapping \(written after munmap/);
  });

  test('no false alarm: a read-only mapping whose buffer another process writes through its own writable mapping', async () => {
    const m = await machine();
    // The reader maps read-only in a worker; the writer writes through its own writable mapping.
    const writer = m.spawn('writer');
    const reader = spawnWorker(m, `${ALLOC}
      const ro = proc.mmap(8192, u.PROT_READ, u.MAP_SHARED, buf);
      send(proc.sendFd(buf, data.writer));
      await recv();
      sync(u.DMA_BUF_SYNC_START | u.DMA_BUF_SYNC_READ);
      const seen = ro[7];
      sync(u.DMA_BUF_SYNC_END | u.DMA_BUF_SYNC_READ);
      proc.munmap(ro);
      proc.exit();
      return seen;
    `, { writer: writer.pid });
    const fd = writer.receiveFd((await reader.next()) as string);
    const view = writer.mmap(8192, 3, 1, fd);
    view[7] = 9;
    reader.post('written');
    assert.equal(await reader.result, 9);
    writer.munmap(view);
    writer.exit();
  });
});
