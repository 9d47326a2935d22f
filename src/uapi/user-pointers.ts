/**
 * The user pointers inside an ioctl argument, found from the declarations
 * alone: a native backend copies the argument to real memory, turns each
 * non-NULL pointer's offset into an address (base + offset), makes the
 * call, copies the bytes back and restores the offsets — with no code for
 * any particular ioctl.
 */
import { pointeeLength, type AnyStruct, type Fields, type Pointee } from './struct.js';

const MAX_LEN = Number.MAX_SAFE_INTEGER;

/** A non-NULL user pointer inside an argument. */
export interface UserPointer {
  /** the field, as a C expression from the argument (`sync_fence_info`, `recs[2].buf`) */
  readonly path: string;
  /** the byte offset of the pointer field in the argument */
  readonly at: number;
  /** its value: a byte offset into the argument */
  readonly target: bigint;
  /** the bytes it references (a string: up to and with its NUL, or to the end of the argument if none) */
  readonly length: number;
  /** whether [target, target + length) lies inside the argument (a string: and is terminated) */
  readonly inside: boolean;
  /** what the field's declaration says it points to */
  readonly to: Pointee;
}

/**
 * The pointer fields of a declaration (not following pointers or arrays).
 *
 * @example
 * ```ts
 * import { drm_version, pointerFields } from 'dmabuf/uapi';
 * pointerFields(drm_version).map((p) => `${p.name}@${p.offset}`); // → ['name@24', 'date@40', 'desc@56']
 * ```
 */
export function pointerFields(s: AnyStruct): { name: string; offset: number; to: Pointee }[] {
  return Object.entries(s.fields as Fields).flatMap(([name, f]) => (f.type !== 'flex' && f.to ? [{ name, offset: f.offset, to: f.to }] : []));
}

/**
 * Every non-NULL user pointer in an argument holding `s` at `offset`,
 * with the byte range each references: the struct's own pointer fields,
 * those of its flexible array's items, and those inside the records a
 * pointer references (when they lie inside the argument). `prefix` starts
 * each path (for the recursion).
 *
 * @example
 * ```ts
 * import { sync_fence_info, sync_file_info, userPointers } from 'dmabuf/uapi';
 * const arg = sync_file_info.encode({ num_fences: 1, sync_fence_info: 56n }, sync_fence_info.size);
 * const [p] = userPointers(sync_file_info, arg);
 * [p.path, p.at, p.target, p.length, p.inside]; // → ['sync_fence_info', 48, 56n, 80, true]
 * ```
 */
export function userPointers(s: AnyStruct, bytes: Uint8Array, offset = 0, prefix = ''): UserPointer[] {
  const out: UserPointer[] = [];
  for (const [name, f] of Object.entries(s.fields as Fields)) {
    if (f.type === 'flex') {
      if (!hasNestedPointers(f.of)) continue;
      const n = Number(s.get(bytes, f.count, offset));
      for (let i = 0; i < n && offset + f.offset + (i + 1) * f.of.size <= bytes.length; i++) {
        out.push(...userPointers(f.of, bytes, offset + f.offset + i * f.of.size, `${prefix}${name}[${i}].`));
      }
      continue;
    }
    if (!f.to) continue;
    const target = s.get(bytes, name, offset) as bigint;
    if (target === 0n) continue;
    const span = pointeeLength(s, name, bytes, offset);
    const length = span?.length ?? MAX_LEN;
    const inside = span !== null && span.terminated && target + BigInt(length) <= BigInt(bytes.length);
    out.push({ path: `${prefix}${name}`, at: offset + f.offset, target, length, inside, to: f.to });
    if (inside && f.to.kind === 'records' && hasNestedPointers(f.to.of)) {
      for (let i = 0; i < span!.count; i++) out.push(...userPointers(f.to.of, bytes, Number(target) + i * f.to.of.size, `${prefix}${name}[${i}].`));
    }
  }
  return out;
}

function hasNestedPointers(s: AnyStruct): boolean {
  return Object.values(s.fields as Fields).some((f) => (f.type === 'flex' ? hasNestedPointers(f.of) : f.to !== undefined));
}

/**
 * A copy of the argument for native memory at address `base`: each
 * non-NULL pointer turned into base + its offset, or into `fault` (an
 * address the kernel cannot copy to or from) when its range lies outside
 * the argument — so the call fails with EFAULT only if it uses it, as on
 * Linux. Returns the bytes and the pointers, for restorePointers().
 *
 * @example
 * ```ts
 * import { relocatePointers, restorePointers, sync_fence_info, sync_file_info } from 'dmabuf/uapi';
 * const arg = sync_file_info.encode({ num_fences: 1, sync_fence_info: 56n }, sync_fence_info.size);
 * const base = 0x7f00_0000_0000n; // where the copy goes in native memory
 * const { bytes, pointers } = relocatePointers(sync_file_info, arg, base, 1n << 63n);
 * sync_file_info.get(bytes, 'sync_fence_info'); // → 0x7f00_0000_0038n, base + 56
 * // …the real ioctl fills `bytes` in native memory; copied back:
 * restorePointers(bytes, pointers);
 * sync_file_info.get(bytes, 'sync_fence_info'); // → 56n
 * ```
 */
export function relocatePointers(s: AnyStruct, bytes: Uint8Array, base: bigint, fault: bigint): { bytes: Uint8Array; pointers: UserPointer[] } {
  const pointers = userPointers(s, bytes);
  const copy = bytes.slice();
  const dv = new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
  for (const p of pointers) dv.setBigUint64(p.at, p.inside ? BigInt.asUintN(64, base + p.target) : fault, true);
  return { bytes: copy, pointers };
}

/**
 * Put the offsets back into the bytes copied back from native memory (the
 * second half of {@link relocatePointers}).
 *
 * @example
 * ```ts
 * import { relocatePointers, restorePointers, sync_file_info } from 'dmabuf/uapi';
 * const { bytes, pointers } = relocatePointers(sync_file_info, arg, base, 1n << 63n);
 * // …the bytes go to native memory at `base`, the ioctl runs, they come back into `bytes`…
 * restorePointers(bytes, pointers);
 * sync_file_info.get(bytes, 'sync_fence_info'); // → 56n, an offset into the argument again
 * ```
 */
export function restorePointers(bytes: Uint8Array, pointers: readonly UserPointer[]): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const p of pointers) dv.setBigUint64(p.at, p.target, true);
}
