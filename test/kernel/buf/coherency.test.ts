/**
 * The coherency checker (kconfig.DMABUF_COHERENCY_CHECK, not in Linux):
 * with a device that is not cache-coherent, CPU writes outside a
 * begin/end_cpu_access bracket and device reads while a CPU write access
 * is open are reported with the buffer and the access; a correct
 * bracket, device writes, and coherent devices are not.
 */
import { describe, test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { expectWarn } from '../../helpers/harness.js';
import { testExporter } from '../../helpers/exporter.js';
import { kconfig } from '../../../src/kernel/lib/kconfig.js';
import { dmesg } from '../../../src/kernel/lib/printk.js';
import { dmaBufPut } from '../../../src/kernel/buf/dma-buf.js';
import { dmaBufAttach, dmaBufDetach, dmaBufMapAttachmentUnlocked, dmaBufUnmapAttachmentUnlocked } from '../../../src/kernel/buf/attachment.js';
import { dmaBufBeginCpuAccess, dmaBufEndCpuAccess } from '../../../src/kernel/buf/cpu-access.js';
import { DmaEngine } from '../../../src/kernel/drivers/dma-engine.js';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../../../src/kernel/mm/dma-mapping.js';
import type { SgTable } from '../../../src/kernel/mm/scatterlist.js';

beforeEach(() => {
  kconfig.DMABUF_COHERENCY_CHECK = true;
});
afterEach(() => {
  kconfig.DMABUF_COHERENCY_CHECK = false;
});

/** Two buffers mapped for one DMA engine: `src` (CPU-written) and `dst`. */
async function setup(coherent: boolean) {
  const engine = new DmaEngine({ name: coherent ? 'coherent-dma' : 'noncoherent-dma', coherent });
  const src = testExporter({ pages: 2, expName: 'camera' });
  const dst = testExporter({ pages: 2, expName: 'encoder' });
  const a = await dmaBufAttach(src.dmabuf, engine.dev);
  const b = await dmaBufAttach(dst.dmabuf, engine.dev);
  const sa = await dmaBufMapAttachmentUnlocked(a, DMA_BIDIRECTIONAL);
  const sb = await dmaBufMapAttachmentUnlocked(b, DMA_BIDIRECTIONAL);
  const copy = async (from: SgTable, to: SgTable): Promise<void> => {
    const f = engine.copy(from, 0, to, 0, 8192);
    await f.wait(false);
    f.put();
  };
  const teardown = async (): Promise<void> => {
    await dmaBufUnmapAttachmentUnlocked(a, sa, DMA_BIDIRECTIONAL);
    await dmaBufUnmapAttachmentUnlocked(b, sb, DMA_BIDIRECTIONAL);
    await dmaBufDetach(src.dmabuf, a);
    await dmaBufDetach(dst.dmabuf, b);
    dmaBufPut(src.dmabuf);
    dmaBufPut(dst.dmabuf);
  };
  return { src, dst, sa, sb, copy, teardown };
}

describe('coherency checker', () => {
  test('a bracketed CPU write, then the device reads: nothing to report; device writes are not the CPU\'s', async () => {
    const t = await setup(false);
    assert.equal(await dmaBufBeginCpuAccess(t.src.dmabuf, DMA_TO_DEVICE), 0);
    t.src.backing.view(0, 4).set([1, 2, 3, 4]);
    assert.equal(await dmaBufEndCpuAccess(t.src.dmabuf, DMA_TO_DEVICE), 0);
    await t.copy(t.sa, t.sb);
    assert.equal(await dmaBufBeginCpuAccess(t.dst.dmabuf, DMA_FROM_DEVICE), 0);
    assert.deepEqual([...t.dst.backing.view(0, 4)], [1, 2, 3, 4]);
    assert.equal(await dmaBufEndCpuAccess(t.dst.dmabuf, DMA_FROM_DEVICE), 0);
    await t.teardown();
  });

  test('a CPU write outside the bracket is reported at the next access, with the buffer and the offset', async () => {
    const t = await setup(false);
    t.src.backing.view(4100, 1)[0] = 9;
    await expectWarn(() => t.copy(t.sa, t.sb), 1);
    assert.match(dmesg(), new RegExp(`coherency: the CPU wrote dma-buf ${t.src.dmabuf.ino} \\(camera\\) at offset 4100 outside begin/end_cpu_access \\(found at device noncoherent-dma read\\)`));
    t.src.backing.view(0, 1)[0] = 5;
    await expectWarn(() => dmaBufBeginCpuAccess(t.src.dmabuf, DMA_FROM_DEVICE), 1);
    assert.match(dmesg(), /at offset 0 outside begin\/end_cpu_access \(found at begin_cpu_access\)/);
    await dmaBufEndCpuAccess(t.src.dmabuf, DMA_FROM_DEVICE);
    await t.teardown();
  });

  test('the device reads while the CPU\'s write access is still open', async () => {
    const t = await setup(false);
    await dmaBufBeginCpuAccess(t.src.dmabuf, DMA_TO_DEVICE);
    t.src.backing.view(0, 1)[0] = 1;
    await expectWarn(() => t.copy(t.sa, t.sb), 1);
    assert.match(dmesg(), new RegExp(`coherency: device noncoherent-dma reads dma-buf ${t.src.dmabuf.ino} \\(camera\\) while a CPU write access is open`));
    await dmaBufEndCpuAccess(t.src.dmabuf, DMA_TO_DEVICE);
    await t.teardown();
  });

  test('a coherent device needs no brackets: nothing is watched', async () => {
    const t = await setup(true);
    t.src.backing.view(0, 1)[0] = 1;
    await t.copy(t.sa, t.sb);
    await t.teardown();
  });
});
