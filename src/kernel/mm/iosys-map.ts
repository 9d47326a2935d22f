/**
 * struct iosys_map (include/linux/iosys-map.h): a kernel mapping of a
 * buffer, in system memory or in I/O memory. Both are byte views here; the
 * flag records which accessors Linux would have to use.
 */
export class IosysMap {
  /** system-memory mapping */
  vaddr: Uint8Array | null = null;
  /** I/O-memory mapping */
  vaddrIomem: Uint8Array | null = null;
  isIomem = false;

  /** iosys_map_set_vaddr() */
  setVaddr(v: Uint8Array): void {
    this.vaddr = v;
    this.vaddrIomem = null;
    this.isIomem = false;
  }

  /** iosys_map_set_vaddr_iomem() */
  setVaddrIomem(v: Uint8Array): void {
    this.vaddrIomem = v;
    this.vaddr = null;
    this.isIomem = true;
  }

  /** iosys_map_is_null() */
  isNull(): boolean {
    return this.isIomem ? this.vaddrIomem === null : this.vaddr === null;
  }

  /** iosys_map_is_set() */
  isSet(): boolean {
    return !this.isNull();
  }

  /** iosys_map_clear() */
  clear(): void {
    this.vaddr = this.vaddrIomem = null;
    this.isIomem = false;
  }

  /** iosys_map_is_equal() */
  isEqual(other: IosysMap): boolean {
    if (this.isIomem !== other.isIomem) return false;
    const a = this.isIomem ? this.vaddrIomem : this.vaddr;
    const b = other.isIomem ? other.vaddrIomem : other.vaddr;
    if (a === null || b === null) return a === b;
    return a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.byteLength === b.byteLength;
  }

  /** Copy this map's fields into `dst` (struct assignment). */
  copyTo(dst: IosysMap): void {
    dst.vaddr = this.vaddr;
    dst.vaddrIomem = this.vaddrIomem;
    dst.isIomem = this.isIomem;
  }

  private mem(): Uint8Array {
    const m = this.isIomem ? this.vaddrIomem : this.vaddr;
    if (!m) throw new RangeError('iosys_map: access through a NULL mapping');
    return m;
  }

  /** iosys_map_memcpy_to(dst, dst_offset, src, len) */
  memcpyTo(dstOffset: number, src: Uint8Array, len = src.length): void {
    this.mem().set(src.subarray(0, len), dstOffset);
  }

  /** iosys_map_memcpy_from(dst, src, src_offset, len) */
  memcpyFrom(dst: Uint8Array, srcOffset: number, len: number): void {
    dst.set(this.mem().subarray(srcOffset, srcOffset + len));
  }

  /** iosys_map_memset(dst, offset, value, len) */
  memset(offset: number, value: number, len: number): void {
    this.mem().fill(value, offset, offset + len);
  }

  /** iosys_map_incr(): advance the mapping by `incr` bytes. */
  incr(incr: number): void {
    const m = this.mem();
    const next = m.subarray(incr);
    if (this.isIomem) this.vaddrIomem = next;
    else this.vaddr = next;
  }

  private dv(): DataView {
    const m = this.mem();
    return new DataView(m.buffer, m.byteOffset, m.byteLength);
  }

  /** iosys_map_rd(map, offset, u8/u16/u32/u64) — little-endian, as on x86-64 */
  rd(offset: number, type: 'u8' | 'u16' | 'u32' | 'u64'): number | bigint {
    const d = this.dv();
    switch (type) {
      case 'u8': return d.getUint8(offset);
      case 'u16': return d.getUint16(offset, true);
      case 'u32': return d.getUint32(offset, true);
      case 'u64': return d.getBigUint64(offset, true);
    }
  }

  /** iosys_map_wr(map, offset, u8/u16/u32/u64, val) */
  wr(offset: number, type: 'u8' | 'u16' | 'u32' | 'u64', val: number | bigint): void {
    const d = this.dv();
    switch (type) {
      case 'u8': d.setUint8(offset, Number(val)); break;
      case 'u16': d.setUint16(offset, Number(val), true); break;
      case 'u32': d.setUint32(offset, Number(val), true); break;
      case 'u64': d.setBigUint64(offset, BigInt(val), true); break;
    }
  }
}

/**
 * struct dma_buf_map (Linux 5.15's dma-buf.h): the same structure under its name
 * before Linux 5.18 renamed it iosys_map.
 */
export { IosysMap as DmaBufMap };
