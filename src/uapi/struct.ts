/**
 * C structs declared once, as the x86-64 ABI lays them out (little-endian,
 * LP64): a name, a size, and each field's C name, C type and byte offset.
 * Codecs, single-field access and the walk over user pointers
 * (user-pointers.ts) all come from the declaration, so no offset is
 * written twice.
 *
 * Values: 8/16/32-bit integers are numbers, 64-bit ones (and size_t and
 * pointers) bigints, char[N] a Uint8Array of N bytes (names are bytes; see
 * cstr() and cbytes()). encode() and set() refuse a value outside its C
 * type's range instead of wrapping it.
 *
 * User pointers follow the emulator's convention: an ioctl argument is one
 * Uint8Array, and a pointer field holds a byte offset into that same array
 * (0 is NULL). A pointer field says what it points to, so a native backend
 * can relocate the argument with no ioctl-specific code.
 */

/** C integer types that fit a JavaScript number. */
export type CNumberType = '__u8' | '__s8' | '__u16' | '__s16' | '__u32' | '__s32' | 'int' | 'unsigned int';
/** 64-bit C types, read and written as bigint (`char *` is a user pointer). */
export type CBigType = '__u64' | '__s64' | '__kernel_size_t' | 'char *';
/** C scalar types. */
export type CScalarType = CNumberType | CBigType;
/** A fixed char array. */
export type CCharArray = `char[${number}]`;
/** The C types a field may have. */
export type CType = CScalarType | CCharArray;

interface ScalarInfo {
  readonly size: number;
  readonly signed: boolean;
}

const SCALARS: Record<CScalarType, ScalarInfo> = {
  __u8: { size: 1, signed: false },
  __s8: { size: 1, signed: true },
  __u16: { size: 2, signed: false },
  __s16: { size: 2, signed: true },
  __u32: { size: 4, signed: false },
  __s32: { size: 4, signed: true },
  int: { size: 4, signed: true },
  'unsigned int': { size: 4, signed: false },
  __u64: { size: 8, signed: false },
  __s64: { size: 8, signed: true },
  __kernel_size_t: { size: 8, signed: false },
  'char *': { size: 8, signed: false },
};

/** A pointee: `count` (a field of the same struct) records of `of`. */
export interface RecordsPointee<S extends AnyStruct = AnyStruct> { readonly kind: 'records'; readonly of: S; readonly count: string }
/** A pointee: `length` (a field of the same struct) bytes. */
export interface BytesPointee { readonly kind: 'bytes'; readonly length: string }
/** A pointee: a NUL-terminated string. */
export interface StringPointee { readonly kind: 'string' }
/** What a pointer field points to. */
export type Pointee = RecordsPointee | BytesPointee | StringPointee;

/** A field: its C type and byte offset, and for a user pointer what it points to. */
export interface FieldDecl<T extends CType = CType> {
  readonly type: T;
  readonly offset: number;
  readonly to?: Pointee;
}

/** An inline flexible array member (`struct item list[]`) of `count` items. */
export interface FlexDecl<S extends AnyStruct = AnyStruct> {
  readonly type: 'flex';
  readonly offset: number;
  readonly of: S;
  readonly count: string;
}

/** A struct's fields by their C names: what {@link struct} takes. */
export type Fields = Readonly<Record<string, FieldDecl | FlexDecl>>;
/** Any struct declaration, whatever its fields (for code that walks declarations). */
export type AnyStruct = Struct<any>;

/** What decode() and get() give for a C type: a number up to 32 bits, a bigint for 64, a Uint8Array for char[N]. */
export type ValueOfType<T> = T extends CNumberType ? number : T extends CBigType ? bigint : Uint8Array;
/** What encode() and set() take for a C type: as {@link ValueOfType}, but a 64-bit field also takes an integer number. */
export type InputOfType<T> = T extends CNumberType ? number : T extends CBigType ? bigint | number : Uint8Array;

/** The decoded value of a field. */
export type FieldValue<D> = D extends FlexDecl<infer S> ? Decoded<S['fields']>[] : D extends FieldDecl<infer T> ? ValueOfType<T> : never;
/** What encode() and set() accept for a field. */
export type FieldInput<D> = D extends FlexDecl<infer S> ? Input<S['fields']>[] : D extends FieldDecl<infer T> ? InputOfType<T> : never;
/** A decoded struct: every field, by its C name. */
export type Decoded<F extends Fields> = { -readonly [K in keyof F]: FieldValue<F[K]> };
/** The fields to encode (the others are zero). */
export type Input<F extends Fields> = { [K in keyof F]?: FieldInput<F[K]> };
/** The decoded type of a declaration (`StructValue<typeof sync_file_info>`). */
export type StructValue<S extends AnyStruct> = Decoded<S['fields']>;
/** The names of a struct's pointer fields. */
export type PointerKeys<F extends Fields> = { [K in keyof F]: F[K] extends { readonly to: Pointee } ? K : never }[keyof F] & string;

/**
 * A field of C type `type` at byte `offset`, for {@link struct}. The offset
 * is the C compiler's (offsetof); struct() checks it is aligned and inside.
 *
 * @example
 * ```ts
 * import { field, struct } from 'dmabuf/uapi';
 * const dma_buf_export_sync_file = struct('dma_buf_export_sync_file', 8, {
 *   flags: field('__u32', 0),
 *   fd: field('__s32', 4),
 * });
 * ```
 */
export function field<const T extends CType>(type: T, offset: number): FieldDecl<T> {
  return { type, offset };
}

/**
 * A user-pointer field (`__u64` or `char *`) at `offset` that points to
 * `to`: {@link records}, {@link bytes} or {@link cstring}. Declaring the
 * pointee is what lets deref() and the native backend follow it.
 *
 * @example
 * ```ts
 * import { bytes, field, pointer, struct } from 'dmabuf/uapi';
 * // struct drm_unique { __kernel_size_t unique_len; char *unique; }
 * const drm_unique = struct('drm_unique', 16, {
 *   unique_len: field('__kernel_size_t', 0),
 *   unique: pointer('char *', 8, bytes('unique_len')),
 * });
 * ```
 */
export function pointer<const T extends '__u64' | 'char *', P extends Pointee>(type: T, offset: number, to: P): { readonly type: T; readonly offset: number; readonly to: P } {
  return { type, offset, to };
}

/**
 * The pointee: `count` records of `of` (`count` names a field of the same struct).
 *
 * @example
 * ```ts
 * import { field, pointer, records, struct, sync_fence_info } from 'dmabuf/uapi';
 * // how struct sync_file_info declares its array of fence records
 * const info = struct('sync_file_info', 56, {
 *   num_fences: field('__u32', 40),
 *   sync_fence_info: pointer('__u64', 48, records(sync_fence_info, 'num_fences')),
 * });
 * ```
 */
export function records<S extends AnyStruct>(of: S, count: string): RecordsPointee<S> {
  return { kind: 'records', of, count };
}

/**
 * The pointee: `length` bytes (`length` names a field of the same struct).
 *
 * @example
 * ```ts
 * import { bytes, drm_version } from 'dmabuf/uapi';
 * // struct drm_version's name: a buffer of name_len bytes
 * bytes('name_len'); // → { kind: 'bytes', length: 'name_len' }
 * drm_version.fields.name.to; // → { kind: 'bytes', length: 'name_len' }
 * ```
 */
export function bytes(length: string): BytesPointee {
  return { kind: 'bytes', length };
}

/** The pointee: a NUL-terminated string. */
export const cstring: StringPointee = { kind: 'string' };

/**
 * An inline flexible array of `of` at `offset` (the struct's size: it is
 * the last member), with `count` (a field of the same struct) items.
 *
 * @example
 * ```ts
 * import { field, flex, struct, udmabuf_create_item } from 'dmabuf/uapi';
 * // struct udmabuf_create_list { __u32 flags; __u32 count; struct udmabuf_create_item list[]; }
 * const list = struct('udmabuf_create_list', 8, {
 *   flags: field('__u32', 0),
 *   count: field('__u32', 4),
 *   list: flex(8, udmabuf_create_item, 'count'),
 * });
 * ```
 */
export function flex<S extends AnyStruct>(offset: number, of: S, count: string): FlexDecl<S> {
  return { type: 'flex', offset, of, count };
}

function charArrayLength(type: string): number | null {
  const m = /^char\[(\d+)\]$/.exec(type);
  return m ? Number(m[1]) : null;
}

/**
 * sizeof a field's C type (a flexible array: 0). TypeError for a type the
 * engine does not know.
 *
 * @example
 * ```ts
 * import { sizeofType } from 'dmabuf/uapi';
 * sizeofType('__kernel_size_t'); // → 8
 * sizeofType('char[32]'); // → 32
 * ```
 */
export function sizeofType(type: CType | 'flex'): number {
  if (type === 'flex') return 0;
  const n = charArrayLength(type);
  if (n !== null) return n;
  const s = SCALARS[type as CScalarType];
  if (!s) throw new TypeError(`unknown C type '${type}'`);
  return s.size;
}

/**
 * Whether a C scalar type is signed (null for arrays).
 *
 * @example
 * ```ts
 * import { isSignedType } from 'dmabuf/uapi';
 * isSignedType('__s32'); // → true
 * isSignedType('char *'); // → false
 * isSignedType('char[32]'); // → null
 * ```
 */
export function isSignedType(type: CType): boolean | null {
  const s = SCALARS[type as CScalarType];
  return s ? s.signed : null;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function describe(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Uint8Array) return `a Uint8Array of ${v.length} bytes`;
  return String(v);
}

/** Check `v` against a scalar C type; returns it as a number or bigint. Throws TypeError/RangeError naming `what`. */
function checkScalar(type: CScalarType, v: unknown, what: string): number | bigint {
  const { size, signed } = SCALARS[type];
  if (size === 8) {
    let big: bigint;
    if (typeof v === 'bigint') big = v;
    else if (typeof v === 'number' && Number.isInteger(v)) big = BigInt(v);
    else throw new TypeError(`${what}: ${type} takes an integer (bigint or number), not ${describe(v)}`);
    const ok = signed ? big >= -(1n << 63n) && big < 1n << 63n : big >= 0n && big < 1n << 64n;
    if (!ok) throw new RangeError(`${what}: ${describe(v)} is out of range for ${type}`);
    return big;
  }
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${what}: ${type} takes an integer number, not ${describe(v)}`);
  const bits = size * 8;
  const ok = signed ? v >= -(2 ** (bits - 1)) && v < 2 ** (bits - 1) : v >= 0 && v < 2 ** bits;
  if (!ok) throw new RangeError(`${what}: ${v} is out of range for ${type}`);
  return v;
}

function readScalar(dv: DataView, type: CScalarType, at: number): number | bigint {
  switch (type) {
    case '__u8': return dv.getUint8(at);
    case '__s8': return dv.getInt8(at);
    case '__u16': return dv.getUint16(at, true);
    case '__s16': return dv.getInt16(at, true);
    case '__u32': case 'unsigned int': return dv.getUint32(at, true);
    case '__s32': case 'int': return dv.getInt32(at, true);
    case '__s64': return dv.getBigInt64(at, true);
    default: return dv.getBigUint64(at, true);
  }
}

function writeScalar(dv: DataView, type: CScalarType, at: number, v: number | bigint): void {
  switch (type) {
    case '__u8': case '__s8': dv.setUint8(at, Number(v) & 0xff); break;
    case '__u16': case '__s16': dv.setUint16(at, Number(v) & 0xffff, true); break;
    case '__u32': case 'unsigned int': case '__s32': case 'int': dv.setUint32(at, Number(v) >>> 0, true); break;
    default: dv.setBigUint64(at, BigInt.asUintN(64, v as bigint), true);
  }
}

/**
 * A struct declaration: the codec and field access for one C struct. Made
 * by {@link struct}, which checks the layout (alignment, overlaps, counts
 * that name integer fields) and throws TypeError for a bad one.
 *
 * @example
 * ```ts
 * import { DMA_HEAP_IOCTL_ALLOC, O_CLOEXEC, O_RDWR, dma_heap_allocation_data } from 'dmabuf/uapi';
 * const arg = dma_heap_allocation_data.encode({ len: 4096n, fd_flags: O_RDWR | O_CLOEXEC });
 * proc.ioctl(heap, DMA_HEAP_IOCTL_ALLOC, arg); // heap: an fd of /dev/dma_heap/system
 * const { fd, len } = dma_heap_allocation_data.decode(arg); // fd: the new dma-buf; len: 4096n
 * ```
 */
export class Struct<F extends Fields> {
  /** the flexible array member, if any */
  readonly flexName: string | null = null;

  /**
   * @param name the C name, without `struct`
   * @param size sizeof(struct name)
   * @param fields each field by its C name
   */
  constructor(readonly name: string, readonly size: number, readonly fields: F) {
    const spans: [number, number, string][] = [];
    for (const [key, f] of Object.entries(fields)) {
      const what = `struct ${name}.${key}`;
      if (f.type === 'flex') {
        if (f.offset !== size) throw new TypeError(`${what}: a flexible array sits at the end (offset ${size})`);
        if (this.flexName) throw new TypeError(`${what}: one flexible array per struct`);
        this.flexName = key;
        this.checkCount(key, f.count);
        continue;
      }
      const n = sizeofType(f.type);
      const align = charArrayLength(f.type) !== null ? 1 : n;
      if (!Number.isInteger(f.offset) || f.offset < 0 || f.offset % align || f.offset + n > size) throw new TypeError(`${what}: offset ${f.offset} does not fit ${f.type} in ${size} bytes`);
      spans.push([f.offset, f.offset + n, key]);
      if (f.to) {
        if (n !== 8 || SCALARS[f.type as CScalarType]?.signed !== false) throw new TypeError(`${what}: a user pointer is 8 unsigned bytes`);
        if (f.to.kind === 'records') this.checkCount(key, f.to.count);
        if (f.to.kind === 'bytes') this.checkCount(key, f.to.length);
      }
    }
    spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) {
      if (spans[i][0] < spans[i - 1][1]) throw new TypeError(`struct ${name}: ${spans[i][2]} overlaps ${spans[i - 1][2]}`);
    }
  }

  private checkCount(key: string, count: string): void {
    const c = this.fields[count];
    if (!c || c.type === 'flex' || charArrayLength(c.type) !== null) throw new TypeError(`struct ${this.name}.${key}: its count '${count}' is not an integer field`);
  }

  /**
   * A new struct's bytes: `values` set, the rest zero, any flexible array
   * after it, then `extraBytes` of zeros. TypeError for an unknown field or
   * a value of the wrong kind, RangeError for one outside its C type.
   *
   * @example
   * ```ts
   * import { DMA_BUF_SYNC_READ, DMA_BUF_SYNC_START, dma_buf_sync } from 'dmabuf/uapi';
   * dma_buf_sync.encode({ flags: DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ }); // → Uint8Array(8) [1, 0, 0, 0, 0, 0, 0, 0]
   * ```
   */
  encode(values: Input<F> = {}, extraBytes = 0): Uint8Array {
    const flexValues = this.flexName ? (values as Record<string, unknown>)[this.flexName] : undefined;
    const items = Array.isArray(flexValues) ? flexValues.length : 0;
    const flexSize = this.flexName ? items * (this.fields[this.flexName] as FlexDecl).of.size : 0;
    if (!Number.isInteger(extraBytes) || extraBytes < 0) throw new RangeError(`struct ${this.name}: extraBytes must be a non-negative integer, not ${describe(extraBytes)}`);
    const b = new Uint8Array(this.size + flexSize + extraBytes);
    this.write(b, values);
    return b;
  }

  /**
   * Write `values` into a struct at `offset` of `bytes`, leaving its other
   * bytes as they are. A flexible array's count is set to the number of
   * items unless `values` gives it.
   *
   * @example
   * ```ts
   * import { sync_merge_data } from 'dmabuf/uapi';
   * const arg = new Uint8Array(64); // a struct sync_merge_data at offset 16 of a bigger buffer
   * sync_merge_data.write(arg, { fd2: 7 }, 16);
   * sync_merge_data.get(arg, 'fd2', 16); // → 7
   * ```
   */
  write(bytes: Uint8Array, values: Input<F>, offset = 0): void {
    this.need(bytes, offset, this.size);
    for (const key of Object.keys(values)) {
      if (!Object.prototype.hasOwnProperty.call(this.fields, key)) throw new TypeError(`struct ${this.name} has no field '${key}'`);
    }
    for (const [key, v] of Object.entries(values)) {
      if (v === undefined) continue;
      this.set(bytes, key as keyof F & string, v as FieldInput<F[keyof F]>, offset);
    }
    if (this.flexName) {
      const list = (values as Record<string, unknown>)[this.flexName];
      const count = (this.fields[this.flexName] as FlexDecl).count;
      if (Array.isArray(list) && (values as Record<string, unknown>)[count] === undefined) this.set(bytes, count as keyof F & string, list.length as FieldInput<F[keyof F]>, offset);
    }
  }

  /**
   * Every field of the struct at `offset` of `bytes` (and a flexible array's
   * `count` items). RangeError if the struct does not fit.
   *
   * @example
   * ```ts
   * import { SYNC_IOC_FILE_INFO, cstr, sync_file_info } from 'dmabuf/uapi';
   * const arg = sync_file_info.encode();
   * proc.ioctl(fence, SYNC_IOC_FILE_INFO, arg); // fence: a sync_file fd
   * const info = sync_file_info.decode(arg);
   * console.log(cstr(info.name), info.status, info.num_fences); // its name, 1 once signaled (0 before), its fence count
   * ```
   */
  decode(bytes: Uint8Array, offset = 0): Decoded<F> {
    this.need(bytes, offset, this.size);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(this.fields)) out[key] = this.get(bytes, key as keyof F & string, offset);
    return out as Decoded<F>;
  }

  /**
   * One field of the struct at `offset` of `bytes`, typed by its C type.
   * TypeError for an unknown field name.
   *
   * @example
   * ```ts
   * import { SW_SYNC_IOC_CREATE_FENCE, sw_sync_create_fence_data } from 'dmabuf/uapi';
   * const arg = sw_sync_create_fence_data.encode({ value: 1 });
   * proc.ioctl(timeline, SW_SYNC_IOC_CREATE_FENCE, arg); // timeline: an fd of sw_sync
   * const fence = sw_sync_create_fence_data.get(arg, 'fence'); // the new sync_file's fd
   * ```
   */
  get<K extends keyof F & string>(bytes: Uint8Array, name: K, offset = 0): FieldValue<F[K]> {
    const f = this.fieldOf(name);
    this.need(bytes, offset, this.size);
    if (f.type === 'flex') {
      const n = Number(this.get(bytes, f.count as keyof F & string, offset));
      const start = offset + f.offset;
      this.need(bytes, start, n * f.of.size, `${n} items of ${f.of.name} in ${name}[]`);
      return Array.from({ length: n }, (_, i) => f.of.decode(bytes, start + i * f.of.size)) as FieldValue<F[K]>;
    }
    const at = offset + f.offset;
    const len = charArrayLength(f.type);
    if (len !== null) return bytes.slice(at, at + len) as FieldValue<F[K]>;
    return readScalar(view(bytes), f.type as CScalarType, at) as FieldValue<F[K]>;
  }

  /**
   * Set one field of the struct at `offset` of `bytes` (a flexible array: its
   * items, not its count). Refuses a value outside the field's C type
   * (RangeError) instead of wrapping it.
   *
   * @example
   * ```ts
   * import { sync_file_info } from 'dmabuf/uapi';
   * const arg = sync_file_info.encode();
   * sync_file_info.set(arg, 'num_fences', 2);
   * sync_file_info.set(arg, 'num_fences', -1); // throws RangeError: out of range for __u32
   * ```
   */
  set<K extends keyof F & string>(bytes: Uint8Array, name: K, value: FieldInput<F[K]>, offset = 0): void {
    const f = this.fieldOf(name);
    const what = `struct ${this.name}.${name}`;
    this.need(bytes, offset, this.size);
    if (f.type === 'flex') {
      if (!Array.isArray(value)) throw new TypeError(`${what}: takes an array of ${f.of.name}, not ${describe(value)}`);
      const start = offset + f.offset;
      this.need(bytes, start, value.length * f.of.size, `${value.length} items of ${f.of.name} in ${name}[]`);
      value.forEach((item, i) => f.of.write(bytes, item ?? {}, start + i * f.of.size));
      return;
    }
    const at = offset + f.offset;
    const len = charArrayLength(f.type);
    if (len !== null) {
      if (!(value instanceof Uint8Array)) throw new TypeError(`${what}: ${f.type} takes a Uint8Array (see cbytes()), not ${describe(value)}`);
      if (value.length > len) throw new RangeError(`${what}: ${value.length} bytes do not fit ${f.type}`);
      bytes.set(value, at);
      bytes.fill(0, at + value.length, at + len);
      return;
    }
    writeScalar(view(bytes), f.type as CScalarType, at, checkScalar(f.type as CScalarType, value, what));
  }

  /**
   * What a pointer field points to, read from the same argument: the
   * records (decoded), the bytes, or the string's bytes before its NUL —
   * null for NULL. RangeError if it lies outside `bytes`.
   *
   * @example
   * ```ts
   * import { SYNC_IOC_FILE_INFO, sync_fence_info, sync_file_info } from 'dmabuf/uapi';
   * // room for 2 records right after the struct; the pointer is their offset
   * const arg = sync_file_info.encode({ num_fences: 2, sync_fence_info: 56n }, 2 * sync_fence_info.size);
   * proc.ioctl(fence, SYNC_IOC_FILE_INFO, arg);
   * for (const f of sync_file_info.deref(arg, 'sync_fence_info') ?? []) console.log(f.status, f.timestamp_ns);
   * ```
   */
  deref<K extends PointerKeys<F>>(bytes: Uint8Array, name: K, offset = 0): DerefValue<F[K]> | null {
    const f = this.fieldOf(name) as FieldDecl | FlexDecl;
    if (f.type === 'flex' || !f.to) throw new TypeError(`struct ${this.name}.${name} is not a pointer field`);
    const ptr = this.get(bytes, name, offset) as bigint;
    if (ptr === 0n) return null;
    const to = f.to!;
    const span = pointeeLength(this, name, bytes, offset);
    const what = `struct ${this.name}.${name}`;
    if (span === null || !span.terminated || ptr + BigInt(span.length) > BigInt(bytes.length)) throw new RangeError(`${what}: ${ptr} points outside the ${bytes.length} bytes of the argument`);
    const at = Number(ptr);
    if (to.kind === 'records') return Array.from({ length: span.count }, (_, i) => to.of.decode(bytes, at + i * to.of.size)) as DerefValue<F[K]>;
    if (to.kind === 'bytes') return bytes.slice(at, at + span.length) as DerefValue<F[K]>;
    return bytes.slice(at, at + span.length - 1) as DerefValue<F[K]>;
  }

  private fieldOf(name: string): FieldDecl | FlexDecl {
    const f = Object.prototype.hasOwnProperty.call(this.fields, name) ? this.fields[name] : undefined;
    if (!f) throw new TypeError(`struct ${this.name} has no field '${name}'`);
    return f;
  }

  private need(bytes: Uint8Array, at: number, len: number, what = `struct ${this.name} (${this.size} bytes)`): void {
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`struct ${this.name}: bytes must be a Uint8Array, not ${describe(bytes)}`);
    if (!Number.isInteger(at) || at < 0 || at + len > bytes.length) throw new RangeError(`${what} at offset ${at} does not fit ${bytes.length} bytes`);
  }
}

/** What deref() gives for a pointer field. */
export type DerefValue<D> = D extends { readonly to: RecordsPointee<infer S> } ? StructValue<S>[] : Uint8Array;

/**
 * Declare a struct: `struct(name, sizeof, { field: field('__u32', 0), … })`,
 * with the C names, size and offsets of Linux's header. TypeError for a
 * layout that cannot be (a misaligned or overlapping field, one past the
 * end).
 *
 * @example
 * ```ts
 * import { field, struct } from 'dmabuf/uapi';
 * // struct sync_set_deadline { __u64 deadline_ns; __u64 pad; }
 * const sync_set_deadline = struct('sync_set_deadline', 16, {
 *   deadline_ns: field('__u64', 0),
 *   pad: field('__u64', 8),
 * });
 * sync_set_deadline.encode({ deadline_ns: 1_000_000n }).length; // → 16
 * ```
 */
export function struct<const F extends Fields>(name: string, size: number, fields: F): Struct<F> {
  return new Struct(name, size, fields);
}

/**
 * A bare scalar argument (SW_SYNC_IOC_INC takes a pointer to a __u32): its
 * codec, as {@link Struct}'s for a one-field struct.
 *
 * @example
 * ```ts
 * import { SW_SYNC_IOC_INC, Scalar } from 'dmabuf/uapi';
 * const u32 = new Scalar('__u32'); // the same as the exported __u32
 * proc.ioctl(timeline, SW_SYNC_IOC_INC, u32.encode(1)); // signal the next point
 * ```
 */
export class Scalar<T extends CScalarType> {
  readonly size: number;
  constructor(readonly type: T) {
    this.size = SCALARS[type].size;
  }

  /**
   * The value's bytes (little-endian). TypeError or RangeError for a value
   * the type cannot hold.
   *
   * @example
   * ```ts
   * import { __u32 } from 'dmabuf/uapi';
   * __u32.encode(1); // → Uint8Array(4) [1, 0, 0, 0]
   * ```
   */
  encode(value: InputOfType<T>): Uint8Array {
    const b = new Uint8Array(this.size);
    writeScalar(view(b), this.type, 0, checkScalar(this.type, value, this.type));
    return b;
  }

  /**
   * The value at `offset` of `bytes`. RangeError if it does not fit.
   *
   * @example
   * ```ts
   * import { __u64 } from 'dmabuf/uapi';
   * __u64.decode(new Uint8Array([0, 16, 0, 0, 0, 0, 0, 0])); // → 4096n
   * ```
   */
  decode(bytes: Uint8Array, offset = 0): ValueOfType<T> {
    if (!Number.isInteger(offset) || offset < 0 || offset + this.size > bytes.length) throw new RangeError(`${this.type} at offset ${offset} does not fit ${bytes.length} bytes`);
    return readScalar(view(bytes), this.type, offset) as ValueOfType<T>;
  }
}

/** A __u32 argument: SW_SYNC_IOC_INC's increment, DMA_BUF_SET_NAME_A's size. */
export const __u32 = new Scalar('__u32');
/** A __u64 argument (as a bigint). */
export const __u64 = new Scalar('__u64');

const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

/**
 * The text of a C string: the bytes before the first NUL (all of them if
 * none), as UTF-8. For the char[N] fields decode() gives.
 *
 * @example
 * ```ts
 * import { cbytes, cstr } from 'dmabuf/uapi';
 * cstr(cbytes('frame', 32)); // → 'frame'
 * cstr(new Uint8Array([0x73, 0x77, 0, 0x78])); // → 'sw'
 * ```
 */
export function cstr(b: Uint8Array): string {
  const nul = b.indexOf(0);
  return utf8Decoder.decode(nul < 0 ? b : b.subarray(0, nul));
}

/**
 * A char[n] holding `s`: its UTF-8 bytes, then NULs. RangeError if the
 * bytes and their NUL do not fit in n.
 *
 * @example
 * ```ts
 * import { cbytes, sync_merge_data } from 'dmabuf/uapi';
 * const arg = sync_merge_data.encode({ name: cbytes('both', 32), fd2: other });
 * cbytes('x'.repeat(32), 32); // throws RangeError: no room for the NUL
 * ```
 */
export function cbytes(s: string, n: number): Uint8Array {
  const enc = utf8Encoder.encode(s);
  if (enc.length >= n) throw new RangeError(`'${s}' is ${enc.length} bytes of UTF-8: it and its NUL do not fit char[${n}]`);
  const b = new Uint8Array(n);
  b.set(enc);
  return b;
}

/**
 * The bytes a pointer field of the struct at `offset` references: count *
 * sizeof(record), its length field, or a string with its NUL (to the end
 * of the bytes if unterminated); null if the length is not a safe integer,
 * the string starts past the end, or the field is not a pointer.
 *
 * @example
 * ```ts
 * import { pointeeLength, sync_file_info } from 'dmabuf/uapi';
 * const arg = sync_file_info.encode({ num_fences: 2, sync_fence_info: 56n }, 160);
 * pointeeLength(sync_file_info, 'sync_fence_info', arg, 0); // → { length: 160, count: 2, terminated: true }
 * ```
 */
export function pointeeLength(s: AnyStruct, name: string, bytes: Uint8Array, offset: number): { length: number; count: number; terminated: boolean } | null {
  const f = Object.prototype.hasOwnProperty.call(s.fields, name) ? (s.fields as Fields)[name] : undefined;
  if (!f) throw new TypeError(`struct ${s.name} has no field '${name}'`);
  const to = f.type === 'flex' ? undefined : f.to;
  if (!to) return null;
  if (to.kind === 'string') {
    const ptr = s.get(bytes, name, offset) as bigint;
    if (ptr >= BigInt(bytes.length)) return null;
    const nul = bytes.indexOf(0, Number(ptr));
    return nul < 0 ? { length: bytes.length - Number(ptr), count: 1, terminated: false } : { length: nul - Number(ptr) + 1, count: 1, terminated: true };
  }
  const n = BigInt(s.get(bytes, to.kind === 'records' ? to.count : to.length, offset) as number | bigint);
  const len = to.kind === 'records' ? n * BigInt(to.of.size) : n;
  return len > BigInt(Number.MAX_SAFE_INTEGER) ? null : { length: Number(len), count: Number(n), terminated: true };
}
