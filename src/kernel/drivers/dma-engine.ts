/**
 * A simple DMA engine: copies and fills through the DMA addresses of
 * mapped sg_tables, the way a device sees memory (through its IOMMU if it
 * has one), never through struct pages. Each job completes asynchronously
 * and signals a fence; a fault (an address the device cannot reach) ends
 * the job with -EIO on the fence.
 */
import { EIO } from '../lib/errno.js';
import { coherencyDeviceRead, coherencyDeviceWrote } from '../buf/coherency.js';
import { pr_err } from '../lib/printk.js';
import { DmaFence, type DmaFenceOps, dmaFenceContextAlloc } from '../fence/dma-fence.js';
import { Device, type DeviceConfig } from '../mm/device.js';
import { dmaToPhys } from '../mm/dma-mapping.js';
import { physToBytes, PAGE_SIZE } from '../mm/page.js';
import { forEachSgtableDmaSg, type SgTable } from '../mm/scatterlist.js';

const engineFenceOps: DmaFenceOps = {
  getDriverName: () => 'dma-engine',
  getTimelineName: (f) => (f as EngineFence).engine.dev.name,
};

class EngineFence extends DmaFence {
  constructor(readonly engine: DmaEngine, seqno: number) {
    super(engineFenceOps, engine.context, seqno);
  }
}

/** The device's view of a byte range of a mapped table: chunks of bytes, or null on a fault. */
function resolve(dev: Device, sgt: SgTable, offset: number, length: number): Uint8Array[] | null {
  const out: Uint8Array[] = [];
  let skip = offset;
  let left = length;
  for (const sg of forEachSgtableDmaSg(sgt)) {
    if (left <= 0) break;
    if (skip >= sg.dmaLength) {
      skip -= sg.dmaLength;
      continue;
    }
    let addr = sg.dmaAddress + skip;
    let n = Math.min(sg.dmaLength - skip, left);
    skip = 0;
    while (n > 0) {
      const chunk = Math.min(n, PAGE_SIZE - (addr % PAGE_SIZE));
      const phys = dmaToPhys(dev, addr);
      const bytes = phys === null ? null : physToBytes(phys, chunk);
      if (!bytes) return null;
      out.push(bytes);
      addr += chunk;
      n -= chunk;
      left -= chunk;
    }
  }
  return left > 0 ? null : out;
}

export class DmaEngine {
  readonly dev: Device;
  readonly context = dmaFenceContextAlloc(1);
  private seqno = 0;
  bytesMoved = 0;
  constructor(cfg: DeviceConfig) {
    this.dev = new Device(cfg);
  }

  private job(work: () => boolean): DmaFence {
    const fence = new EngineFence(this, ++this.seqno);
    fence.get();
    setImmediate(() => {
      if (!work()) {
        pr_err(`${this.dev.name}: DMA fault`);
        fence.setError(-EIO);
      }
      fence.signal();
      fence.put();
    });
    return fence;
  }

  /** Copy `length` bytes from src (at srcOffset) to dst (at dstOffset), both tables mapped for this device. */
  copy(src: SgTable, srcOffset: number, dst: SgTable, dstOffset: number, length: number): DmaFence {
    return this.job(() => {
      coherencyDeviceRead(src, this.dev);
      const from = resolve(this.dev, src, srcOffset, length);
      const to = resolve(this.dev, dst, dstOffset, length);
      if (!from || !to) return false;
      // Stream the source chunks into the destination chunks.
      let di = 0;
      let doff = 0;
      for (const chunk of from) {
        let coff = 0;
        while (coff < chunk.length) {
          const d = to[di];
          const n = Math.min(chunk.length - coff, d.length - doff);
          d.set(chunk.subarray(coff, coff + n), doff);
          coff += n;
          doff += n;
          if (doff === d.length) {
            di++;
            doff = 0;
          }
        }
      }
      this.bytesMoved += length;
      coherencyDeviceWrote(dst);
      return true;
    });
  }

  /** Fill `length` bytes of dst with `value`. */
  fill(dst: SgTable, offset: number, length: number, value: number): DmaFence {
    return this.job(() => {
      const to = resolve(this.dev, dst, offset, length);
      if (!to) return false;
      for (const c of to) c.fill(value);
      this.bytesMoved += length;
      coherencyDeviceWrote(dst);
      return true;
    });
  }
}
