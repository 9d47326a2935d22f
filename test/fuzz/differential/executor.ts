/**
 * Runs a sequence of the differential vocabulary on one process, through a
 * Recorder, and (when asked) writes the same calls as a differential
 * program's source.
 *
 * Both backends run the same sequence, so every choice here depends only on
 * the sequence and on what the calls answered, never on a backend's numbers:
 * an operation names "the k-th fd of a kind this process holds", resolved to
 * that side's fd; a number it does not hold is one no process can hold
 * (negative, or above any fd table), never 0-2 (the native backend's
 * processes share Node's stdio) nor a small number (an fd of the emulator's
 * process, or one of Node's on the native backend). The same goes for the
 * fds inside noise bytes, for inode numbers in sysfs paths, and for lengths
 * (a real heap allocates what it is asked for: nothing above 1 MiB unless it
 * overflows to an error). A CPU-access start that would wait for a fence
 * nothing signals is preceded by a recorded poll that tells, and not made if
 * it would wait; a read of a DRM fd (it waits for events vgem never sends)
 * or of the kernel log (the host's records) is not made. Mapped bytes are
 * touched only where the real kernel lets a read through (a memfd's pages
 * end at its size: past them is SIGBUS; a PROT_EXEC-only page may be
 * execute-only: SIGSEGV; either would end Node).
 */
import { writeSync } from 'node:fs';
import * as u from '../../../src/uapi/index.js';
import { Struct, type AnyStruct, type Fields } from '../../../src/uapi/struct.js';
import { ioctlShape, offsetsOf } from '../../../src/native/ioctl-shapes.js';
import type { Recorder } from '../../differential/recorder.js';
import { PATHS } from '../ops.js';
import type { DiffOp } from './vocabulary.js';

/** What a held fd is: its kind steers which operations pick it. */
type Kind = 'heap' | 'udev' | 'drm' | 'tl' | 'memfd' | 'buf' | 'sync' | 'kmsg' | 'text' | 'other';

/** A held fd: its number on this side, and its variable in the program. */
interface Fd {
  readonly n: number;
  readonly v: string;
  readonly kind: Kind;
  /** a memfd's size, as far as this process made it (writes may grow it: this never overstates it) */
  size?: number;
}

/** A number used as an fd: a held one, or one that no process can hold. */
type FdArg = Fd | { readonly n: number; readonly v: string };

/** An fd number nothing holds: negative, or far above every fd table (RLIMIT_NOFILE). */
export const NO_FD_BASE = 1_000_000;
/** An inode number no dma-buf has. */
const NO_INO_BASE = 10 ** 12;
/** The largest heap allocation or mapping made (larger lengths are reduced, unless they overflow PAGE_ALIGN to 0). */
const MAX_ALLOC = 1 << 20;
/** The largest dumb buffer made (a larger one that would not overflow is made lower): the emulator backs it at once. */
const MAX_DUMB = 1 << 24;
/** SET_NAME's argument is a string: at least this many bytes, so strndup_user(arg, DMA_BUF_NAME_LEN) ends inside it. */
const NAME_ARG_MIN = u.DMA_BUF_NAME_LEN + 8;
/** Room left after a user pointer's target, for a kernel that writes more than the declared count would say. */
const POINTER_ROOM = 4096;
const PAGE = 4096;
/** Where a memfd's mappings end in the emulator (src/kernel/fs/memfd.ts MEMFD_MAX_BYTES). */
const MEMFD_MAP_END = 2 ** 30;
/** MAP_FIXED_NOREPLACE (include/uapi/asm-generic/mman-common.h) */
const MAP_FIXED_NOREPLACE = 0x100000;
/** DMABUF_FUZZ_TRACE=1: every operation on stderr before it runs (to find one that hangs or crashes) */
const TRACE = Boolean(process.env.DMABUF_FUZZ_TRACE);

/** How the program names the vocabulary's paths that differ between kernels (test/differential/env.ts). */
const PATH_EXPR: Readonly<Record<string, string>> = {
  '/dev/dri/card0': "env.vgemCard ?? '/dev/dri/card0'",
  '/dev/dri/renderD128': "env.vgemRender ?? '/dev/dri/renderD128'",
};

export interface ExecutorOptions {
  /** paths as the program names them (the emulator's) -> this side's (the vgem nodes, found by driver name) */
  paths?: Readonly<Record<string, string>>;
  /** write the program's source as the calls are made */
  emit?: boolean;
  /** paths that name nothing on this kernel: opened without O_CREAT (as root, a real devtmpfs would create them, for the rest of the boot) */
  absent?: readonly string[];
}

const hexOf = (b: Uint8Array): string => Array.from(b, (c) => c.toString(16).padStart(2, '0')).join('');
const lit = (n: number | bigint): string => (typeof n === 'bigint' ? `${n}n` : n < 0 ? String(n) : n > 0xffff ? `0x${n.toString(16)}` : String(n));
const u64 = (n: number): bigint => BigInt.asUintN(64, BigInt(n));
const name31 = (s: string): Uint8Array => new TextEncoder().encode(s).subarray(0, 31);
const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** The uapi export named `name` if it is `value` (so the program can say `u.name`). */
function uName(value: unknown, name: string): string | null {
  return (u as Record<string, unknown>)[name] === value ? name : null;
}

/** The ioctl request as the program spells it. */
function requestExpr(request: number): string {
  const d = u.ioctlInfo(request);
  return (d && uName(d.request, d.name) ? `u.${d.name}` : null) ?? `0x${(request >>> 0).toString(16)}`;
}

export class Executor {
  /** the program's statements */
  readonly code: string[] = [];
  /** operations run */
  ops = 0;
  private readonly held: Fd[] = [];
  private readonly maps: { view: Uint8Array; v: string }[] = [];
  private readonly handles: number[] = [];
  private nextVar = 1;
  private readonly emit: boolean;
  private readonly paths: Readonly<Record<string, string>>;
  private readonly absent: ReadonlySet<string>;

  constructor(readonly r: Recorder, opts: ExecutorOptions = {}) {
    this.emit = opts.emit ?? false;
    this.paths = opts.paths ?? {};
    this.absent = new Set(opts.absent ?? []);
  }

  private out(line: string): void {
    if (this.emit) this.code.push(line);
  }

  private newVar(prefix: string): string {
    return `${prefix}${this.nextVar++}`;
  }

  private list(kind?: Kind): Fd[] {
    return kind ? this.held.filter((f) => f.kind === kind) : this.held;
  }

  /** The i-th held fd of `kind` (any kind without one), or a number no process holds. */
  private fdOf(kind: Kind | undefined, i: number): FdArg {
    const xs = this.list(kind);
    if (xs.length) return xs[i % xs.length];
    return this.noFd(i - 8);
  }

  private noFd(i: number): FdArg {
    const n = i < 0 ? i : NO_FD_BASE + i;
    return { n, v: String(n) };
  }

  private keep(n: number, kind: Kind, size?: number, v = this.newVar('fd')): Fd {
    const f: Fd = { n, v, kind, size };
    this.held.push(f);
    return f;
  }

  private forget(n: number): void {
    for (let i = this.held.length - 1; i >= 0; i--) if (this.held[i].n === n) this.held.splice(i, 1);
  }

  private heldFd(n: number): Fd | undefined {
    return this.held.find((f) => f.n === n);
  }

  /** Run the whole sequence. */
  run(ops: readonly DiffOp[]): void {
    for (const o of ops) {
      if (TRACE) writeSync(2, `[${this.r.backend}] ${JSON.stringify(o, (_k, v) => (v instanceof Uint8Array ? `bytes(${v.length})` : v))}\n`);
      this.exec(o);
      this.ops++;
    }
  }

  // ---- arguments ----

  /** struct bytes for an ioctl: valid, edge (the first 8 bytes 0xff) or noise (of the declared size, or longer). */
  private shape(v: string, valid: Uint8Array, noise: Uint8Array): Uint8Array {
    if (v === 'valid') return valid;
    if (v === 'edge') {
      const b = valid.slice();
      b.fill(0xff, 0, Math.min(8, b.length));
      return b;
    }
    const b = new Uint8Array(Math.max(valid.length, noise.length));
    b.set(noise);
    return b;
  }

  /**
   * Make noise bytes deterministic for `request`: at least _IOC_SIZE bytes
   * (the kernel copies that many), a list's items inside the argument, each
   * fd field the kernel reads one this process holds (or none can), a heap
   * length the machine can give, and room after each user pointer for what
   * the kernel writes there.
   */
  private sanitize(request: number, arg: Uint8Array, noisy: boolean): Uint8Array {
    let b = arg;
    const grow = (n: number): void => {
      if (b.length >= n) return;
      const c = new Uint8Array(n);
      c.set(b);
      b = c;
    };
    grow(u._IOC_SIZE(request));
    const nr = u._IOC_TYPE(request) << 8 | u._IOC_NR(request);
    const is = (r: number): boolean => (u._IOC_TYPE(r) << 8 | u._IOC_NR(r)) === nr;
    if (is(u.DMA_BUF_SET_NAME_B)) grow(NAME_ARG_MIN);
    if (is(u.UDMABUF_CREATE_LIST) && b.length >= 8) {
      const count = dv(b).getUint32(4, true);
      if (count <= 1024) grow(8 + 24 * count); // udmabuf's list_limit: a longer list is EINVAL before it is read
    }
    if (is(u.DRM_IOCTL_MODE_CREATE_DUMB) && b.length >= u.drm_mode_create_dumb.size) {
      // drm_mode_create_dumb(): cpp = DIV_ROUND_UP(bpp, 8), EINVAL if width * cpp or height * stride overflow a u32.
      const { width, height } = u.drm_mode_create_dumb.decode(b);
      let { bpp } = u.drm_mode_create_dumb.decode(b);
      if (Math.ceil(bpp / 8) > MAX_DUMB) {
        bpp = 32; // a pixel larger than the largest buffer: a 32-bit one instead
        u.drm_mode_create_dumb.set(b, 'bpp', bpp);
      }
      const cpp = Math.ceil(bpp / 8);
      const stride = cpp * width;
      if (width && height && cpp && cpp <= 0xffffffff / width && height <= 0xffffffff / stride && stride * height > MAX_DUMB) {
        const w = stride > MAX_DUMB ? Math.floor(MAX_DUMB / cpp) : width;
        u.drm_mode_create_dumb.set(b, 'width', w);
        u.drm_mode_create_dumb.set(b, 'height', Math.max(1, Math.floor(MAX_DUMB / (cpp * w))));
      }
    }
    if (is(u.DMA_HEAP_IOCTL_ALLOC) && b.length >= 8) {
      const len = dv(b).getBigUint64(0, true);
      if (len > BigInt(MAX_ALLOC) && len <= (1n << 64n) - BigInt(PAGE)) dv(b).setBigUint64(0, len % BigInt(MAX_ALLOC), true);
    }
    if (noisy) {
      const shape = ioctlShape(request);
      for (const at of offsetsOf(shape?.fdIn, b)) {
        if (at + 4 > b.length) continue;
        const n = dv(b).getInt32(at, true);
        if (n >= 0) dv(b).setInt32(at, this.fdOf(undefined, n & 63).n, true);
      }
      // What goes into a field the kernel fills with an fd is checked (DMA_HEAP_IOCTL_ALLOC wants 0), not used:
      // never a number one side holds.
      for (const at of Array.isArray(shape?.fdOut) ? shape!.fdOut : []) {
        if (at + 4 > b.length) continue;
        const n = dv(b).getInt32(at, true);
        if (n > 0 && n < NO_FD_BASE) dv(b).setInt32(at, NO_FD_BASE + (n & 63), true);
      }
    }
    const d = u.ioctlInfo(request);
    if (d?.arg instanceof Struct && b.length >= d.arg.size) {
      for (const p of u.userPointers(d.arg, b)) {
        // Records written over the struct itself would put what it reports (a sync_file's name, with its
        // fence context) where no normaliser looks: point past the struct instead.
        if (p.target < BigInt(d.arg.size)) dv(b).setBigUint64(p.at, p.target + BigInt(d.arg.size), true);
      }
      for (const p of u.userPointers(d.arg, b)) {
        if (p.target < 1n << 16n && !p.inside) grow(Number(p.target) + Math.min(p.length, POINTER_ROOM));
      }
    }
    return b;
  }

  /** The program's expression for an fd number: its variable if this process holds it. */
  private fdExpr(n: number): string {
    return this.heldFd(n)?.v ?? String(n);
  }

  /**
   * The program's statement making `bytes` (the argument of `request`) as
   * `name`: the struct's encode() with its fields when that gives back the
   * same bytes (fd fields the kernel reads by their variables), else hex.
   */
  private argDecl(name: string, request: number, bytes: Uint8Array): string {
    const d = u.ioctlInfo(request);
    const s = d?.arg;
    if (s instanceof u.Scalar && bytes.length === s.size && (s === u.__u32 || s === u.__u64)) return `const ${name} = u.${s === u.__u32 ? '__u32' : '__u64'}.encode(${lit(s.decode(bytes) as number | bigint)});`;
    if (s instanceof Struct && bytes.length >= s.size && uName(s, s.name)) {
      try {
        const fdIn = new Set(offsetsOf(ioctlShape(request)?.fdIn, bytes));
        const fields = this.fieldsExpr(s, s.decode(bytes), 0, fdIn);
        const extra = bytes.length - s.size - (s.flexName ? (s.fields[s.flexName] as { of: AnyStruct }).of.size * Number(s.get(bytes, (s.fields[s.flexName] as { count: string }).count)) : 0);
        const again = s.encode(s.decode(bytes) as never, Math.max(0, extra));
        if (extra >= 0 && again.length === bytes.length && again.every((c, i) => c === bytes[i])) {
          return `const ${name} = u.${s.name}.encode(${fields}${extra ? `, ${extra}` : ''});`;
        }
      } catch {
        // a list longer than the bytes: hex
      }
    }
    const patches = offsetsOf(ioctlShape(request)?.fdIn, bytes)
      .filter((at) => at + 4 <= bytes.length && this.heldFd(dv(bytes).getInt32(at, true)))
      .map((at) => ` setFd(${name}, ${at}, ${this.fdExpr(dv(bytes).getInt32(at, true))});`);
    return `const ${name} = hex('${hexOf(bytes)}');${patches.join('')}`;
  }

  private fieldsExpr(s: AnyStruct, values: Record<string, unknown>, base: number, fdIn: Set<number>): string {
    const parts: string[] = [];
    for (const [key, f] of Object.entries(s.fields as Fields)) {
      const v = values[key];
      if (f.type === 'flex') {
        const items = (v as Record<string, unknown>[]).map((item, i) => this.fieldsExpr(f.of, item, base + f.offset + i * f.of.size, fdIn));
        parts.push(`${key}: [${items.join(', ')}]`);
        continue;
      }
      if (s.flexName && key === (s.fields[s.flexName] as { count: string }).count) continue; // encode() sets it from the list
      if (v instanceof Uint8Array) {
        let end = v.length;
        while (end > 0 && v[end - 1] === 0) end--;
        const b = v.subarray(0, end);
        if (end) parts.push(`${key}: ${b.every((c) => c >= 0x20 && c < 0x7f) ? `str(${JSON.stringify(String.fromCharCode(...b))})` : `hex('${hexOf(b)}')`}`);
      } else if (fdIn.has(base + f.offset) && typeof v === 'number' && this.heldFd(v)) {
        parts.push(`${key}: ${this.fdExpr(v)}`);
      } else if (v !== 0 && v !== 0n) {
        parts.push(`${key}: ${lit(v as number | bigint)}`);
      }
    }
    return `{ ${parts.join(', ')} }`;
  }

  /**
   * ioctl(fd, request, arg) through the recorder, and its program lines
   * (`const <result> = r.ioctl(...)` when a result name is given); a
   * DMA_BUF_IOCTL_SYNC start is made only if a poll says the buffer's
   * fences let it through. Returns the answer (null if not made) and the
   * program's name for the argument.
   */
  private ioctl(fd: FdArg, request: number, arg: Uint8Array | number, result?: string): { ret: number | null; arg: string } {
    if ('kind' in fd && fd.kind === 'heap' && u._IOC_NR(request) === 0 && request >>> 0 !== u.DMA_HEAP_IOCTL_ALLOC) {
      // dma_heap_ioctl() picks the command by _IOC_NR alone: this allocates, and the new fd may not come back (an
      // _IOW request copies nothing out) or come back where the native backend does not look for it (another
      // type's layout): an fd the process cannot name, which the native backend would never close.
      const why = `${u.ioctlInfo(request)?.name ?? `0x${(request >>> 0).toString(16)}`} on a heap allocates an fd the process cannot learn: not made`;
      this.out(`r.note('${why}');`);
      this.r.note(why);
      return { ret: null, arg: '' };
    }
    let argExpr: string;
    if (typeof arg === 'number') argExpr = lit(arg);
    else {
      argExpr = this.newVar('a');
      if (this.emit) this.out(this.argDecl(argExpr, request, arg));
    }
    const call = `r.ioctl(${fd.v}, ${requestExpr(request)}, ${argExpr})`;
    const wait = request >>> 0 === u.DMA_BUF_IOCTL_SYNC && arg instanceof Uint8Array ? this.syncWaits(arg) : 0;
    if (!wait) {
      this.out(result ? `const ${result} = ${call};` : `${call};`);
      return { ret: this.r.ioctl(fd.n, request, arg), arg: argExpr };
    }
    const skipped = 'DMA_BUF_IOCTL_SYNC would wait for a fence that nothing signals: not made';
    this.out(`if (r.poll([{ fd: ${fd.v}, events: ${lit(wait)} }], 0) === 1) ${call};`);
    this.out(`else r.note('${skipped}');`);
    if (this.r.poll([{ fd: fd.n, events: wait }], 0) !== 1) {
      this.r.note(skipped);
      return { ret: null, arg: argExpr };
    }
    return { ret: this.r.ioctl(fd.n, request, arg), arg: argExpr };
  }

  /** The poll events a DMA_BUF_IOCTL_SYNC start waits for (dma_buf_begin_cpu_access: writers for a read, all fences for a write), 0 if it cannot wait. */
  private syncWaits(arg: Uint8Array): number {
    if (arg.length < 8) return 0;
    const flags = dv(arg).getBigUint64(0, true);
    if (flags & ~BigInt(u.DMA_BUF_SYNC_VALID_FLAGS_MASK) || !(flags & BigInt(u.DMA_BUF_SYNC_RW)) || flags & BigInt(u.DMA_BUF_SYNC_END)) return 0;
    return flags & BigInt(u.DMA_BUF_SYNC_WRITE) ? u.POLLOUT : u.POLLIN;
  }

  /** An ioctl whose argument is a struct: the call, then the fds it made, kept as `kind`. */
  private structIoctl(fd: FdArg, request: number, arg: Uint8Array, kind: Kind): { ret: number | null; arg: string } {
    const shape = ioctlShape(request);
    const result = shape?.fdOut === 'ret' ? this.newVar('fd') : undefined;
    const res = this.ioctl(fd, request, arg, result);
    if (res.ret === null || res.ret < 0) return res;
    if (shape?.fdOut === 'ret') this.keep(res.ret, kind, undefined, result);
    else if (Array.isArray(shape?.fdOut)) {
      for (const at of shape.fdOut) {
        if (at + 4 > arg.length) continue;
        const n = dv(arg).getInt32(at, true);
        if (n < 0) continue;
        const f = this.keep(n, kind);
        this.out(`const ${f.v} = getFd(${res.arg}, ${at});`);
      }
    }
    return res;
  }

  // ---- operations ----

  private exec(o: DiffOp): void {
    const r = this.r;
    switch (o.op) {
      case 'open': {
        let path = PATHS[o.path];
        let expr = `'${path}'`;
        if (path === '/proc/self/fdinfo/3') {
          const f = this.fdOf(undefined, (o.flags >>> 4) & 63);
          path = `/proc/self/fdinfo/${f.n}`;
          expr = `\`/proc/self/fdinfo/\${${f.v}}\``;
        }
        const flags = this.absent.has(path) ? o.flags & ~u.O_CREAT : o.flags;
        const fd = r.open(this.paths[path] ?? path, flags);
        const kind: Kind = path.startsWith('/dev/dma_heap/') ? 'heap' : path === '/dev/udmabuf' ? 'udev' : path.startsWith('/dev/dri/') ? 'drm' : path.endsWith('/sw_sync') ? 'tl' : path === '/dev/kmsg' ? 'kmsg' : path.startsWith('/proc/') || path.startsWith('/sys/kernel/debug/dma_buf/') ? 'text' : 'other';
        const v = fd >= 0 ? this.keep(fd, kind).v : this.newVar('x');
        this.out(`const ${v} = r.open(${PATH_EXPR[path] ?? expr}, 0o${(flags >>> 0).toString(8)});`);
        break;
      }
      case 'close': {
        const f = o.raw ? this.noFd(o.fd - 4) : this.fdOf(undefined, o.fd);
        this.out(`r.close(${f.v});`);
        r.close(f.n);
        this.forget(f.n);
        break;
      }
      case 'dup': {
        const f = this.fdOf(undefined, o.fd);
        const fd = r.dup(f.n);
        const old = this.heldFd(f.n);
        const v = fd >= 0 ? this.keep(fd, old?.kind ?? 'other', old?.size).v : this.newVar('x');
        this.out(`const ${v} = r.dup(${f.v});`);
        break;
      }
      case 'heapAlloc': {
        const heap = this.fdOf('heap', o.heap);
        const len = o.len >= 0 && o.len <= MAX_ALLOC ? o.len : o.len & (MAX_ALLOC - 1);
        const valid = u.dma_heap_allocation_data.encode({ len, fd_flags: o.fdFlags & 1 ? u.O_RDWR | u.O_CLOEXEC : o.fdFlags >>> 0, heap_flags: o.heapFlags & 1 ? 0 : o.heapFlags >>> 0 });
        const arg = this.sanitize(u.DMA_HEAP_IOCTL_ALLOC, this.shape(o.v, valid, o.noise), o.v === 'random');
        this.structIoctl(heap, u.DMA_HEAP_IOCTL_ALLOC, arg, 'buf');
        break;
      }
      case 'memfd': {
        const fd = r.memfdCreate('fuzz', o.flags);
        const f = fd >= 0 ? this.keep(fd, 'memfd', 0) : null;
        const v = f?.v ?? this.newVar('x');
        this.out(`const ${v} = r.memfdCreate('fuzz', ${o.flags});`);
        if (!f) break;
        this.out(`r.ftruncate(${v}, ${o.size});`);
        if (r.ftruncate(fd, o.size) === 0) f.size = o.size;
        this.out(`r.fcntl(${v}, u.F_ADD_SEALS, ${o.seals});`);
        r.fcntl(fd, u.F_ADD_SEALS, o.seals);
        break;
      }
      case 'udmabuf': {
        const dev = this.fdOf('udev', o.memfd);
        const memfd = this.fdOf('memfd', o.memfd);
        const m = memfd.n >>> 0; // a __u32 field: a negative fd wraps, as in C
        let arg: Uint8Array;
        let req: number;
        if (o.list === 0) {
          req = u.UDMABUF_CREATE;
          arg = this.shape(o.v, u.udmabuf_create.encode({ memfd: m, flags: o.flags >>> 0, offset: o.offset >>> 0, size: u64(o.size) }), o.noise);
        } else {
          req = u.UDMABUF_CREATE_LIST;
          const items = Array.from({ length: o.list }, (_, i) => ({ memfd: m, offset: (o.offset + i * PAGE) >>> 0, size: u64(o.size) }));
          arg = this.shape(o.v, u.udmabuf_create_list.encode({ flags: o.flags >>> 0, list: items }), o.noise);
        }
        this.structIoctl(dev, req, this.sanitize(req, arg, o.v === 'random'), 'buf');
        break;
      }
      case 'bufIoctl':
        this.bufIoctl(o);
        break;
      case 'syncIoctl': {
        const sf = this.fdOf('sync', o.sync);
        if (o.which === 0) {
          const valid = u.sync_merge_data.encode({ name: name31(o.name), fd2: this.fdOf('sync', o.other).n });
          const arg = this.sanitize(u.SYNC_IOC_MERGE, this.shape(o.v, valid, o.noise), o.v === 'random');
          this.structIoctl(sf, u.SYNC_IOC_MERGE, arg, 'sync');
        } else if (o.which === 1) {
          const valid = u.sync_file_info.encode({ num_fences: o.num & 0xff ? o.num % 5 : o.num >>> 0, sync_fence_info: BigInt(o.ptr) }, 4 * u.sync_fence_info.size);
          this.ioctl(sf, u.SYNC_IOC_FILE_INFO, this.sanitize(u.SYNC_IOC_FILE_INFO, this.shape(o.v, valid, o.noise), o.v === 'random'));
        } else {
          const valid = u.sync_set_deadline.encode({ deadline_ns: BigInt(o.deadline) });
          this.ioctl(sf, u.SYNC_IOC_SET_DEADLINE, this.sanitize(u.SYNC_IOC_SET_DEADLINE, this.shape(o.v, valid, o.noise), o.v === 'random'));
        }
        break;
      }
      case 'timeline': {
        const tl = this.fdOf('tl', o.tl);
        if (o.which === 0) {
          const valid = u.sw_sync_create_fence_data.encode({ value: o.value >>> 0, name: name31(o.name) });
          this.structIoctl(tl, u.SW_SYNC_IOC_CREATE_FENCE, this.sanitize(u.SW_SYNC_IOC_CREATE_FENCE, this.shape(o.v, valid, o.noise), o.v === 'random'), 'sync');
        } else {
          this.ioctl(tl, u.SW_SYNC_IOC_INC, this.sanitize(u.SW_SYNC_IOC_INC, this.shape(o.v, u.__u32.encode(o.value & 7), o.noise), o.v === 'random'));
        }
        break;
      }
      case 'mmap': {
        const f = o.fd % 3 === 0 ? this.fdOf(undefined, o.fd) : this.fdOf('buf', o.fd);
        const len = o.len > 0 && o.len <= MAX_ALLOC ? o.len : o.len === -1 ? -1 : o.len % MAX_ALLOC;
        // A memfd maps past its end on Linux (to 2^63); the emulator's ends at MEMFD_MAX_BYTES (docs/linux-differences.md).
        const offset = 'kind' in f && f.kind === 'memfd' && o.offset >= MEMFD_MAP_END ? o.offset % MEMFD_MAP_END : o.offset;
        // No MAP_FIXED: there is no address argument, and the native backend refuses it (docs/native-backend.md).
        const flags = o.flags & ~(u.MAP_FIXED | MAP_FIXED_NOREPLACE);
        const view = r.mmap(len, o.prot, flags, f.n, offset);
        const v = this.newVar('m');
        this.out(`const ${v} = r.mmap(${len}, ${o.prot}, 0x${flags.toString(16)}, ${f.v}, ${lit(offset)});`);
        if (typeof view === 'number') break;
        this.maps.push({ view, v });
        this.touch(view, v, { ...o, offset, flags }, f);
        break;
      }
      case 'munmap': {
        if (this.maps.length) {
          const m = this.maps.splice(o.map % this.maps.length, 1)[0];
          this.out(`r.munmap(${m.v});`);
          r.munmap(m.view);
        } else {
          this.out('r.munmap(new Uint8Array(8));');
          r.munmap(new Uint8Array(8));
        }
        break;
      }
      case 'lseek': {
        const f = this.fdOf(undefined, o.fd);
        // A memfd's position stays below where the emulator's memfds end (writes there are EFBIG: docs/linux-differences.md).
        const offset = 'kind' in f && f.kind === 'memfd' && Math.abs(o.offset) >= MEMFD_MAP_END / 2 ? o.offset % (MEMFD_MAP_END / 2) : o.offset;
        this.out(`r.lseek(${f.v}, ${offset}, ${o.whence});`);
        r.lseek(f.n, offset, o.whence);
        break;
      }
      case 'poll': {
        // /dev/kmsg is readable when the kernel logged something: the host's log, not the sequence, decides.
        const fds = o.fds.map((i) => this.fdOf(undefined, i)).filter((f) => !('kind' in f) || f.kind !== 'kmsg');
        this.out(`r.poll([${fds.map((f) => `{ fd: ${f.v}, events: ${lit(o.events)} }`).join(', ')}], 0);`);
        r.poll(fds.map((f) => ({ fd: f.n, events: o.events })), 0);
        break;
      }
      case 'readWrite': {
        const f = this.fdOf(undefined, o.fd);
        const kind = 'kind' in f ? f.kind : undefined;
        if (o.write) {
          // Into the kernel log: no "<level>" prefix (it could reach the console), no text a log scan takes for a WARN.
          const data = kind === 'kmsg' ? o.data.map((c) => (c === 0x3c || c < 0x20 || c > 0x7e ? 0x2e : c)).map((c) => (c >= 0x41 && c <= 0x5a ? c + 32 : c)) : o.data;
          this.out(`r.write(${f.v}, ${data.every((c) => c >= 0x20 && c < 0x7f) ? `str(${JSON.stringify(String.fromCharCode(...data))})` : `hex('${hexOf(data)}')`});`);
          r.write(f.n, data); // into a memfd it can only grow it: its size kept here stays safe
        } else {
          // The kernel log's records are the host's; a DRM fd's read waits for an event nothing sends; the bytes of
          // bufinfo and fdinfo hold inode numbers and mount ids that only readFile's recording makes tokens of.
          if (kind === 'kmsg' || kind === 'drm' || kind === 'text') break;
          this.out(`r.read(${f.v}, ${o.len});`);
          r.read(f.n, o.len);
        }
        break;
      }
      case 'readFile': {
        if (o.which === 1) {
          const f = this.fdOf(undefined, o.fd);
          this.out(`r.readFile(\`/proc/self/fdinfo/\${${f.v}}\`);`);
          r.readFile(`/proc/self/fdinfo/${f.n}`);
        } else if (o.which === 3) {
          // A held dma-buf's sysfs directory (its inode, from fstat: not recorded), or one no buffer has.
          const bufs = this.list('buf');
          const b = bufs.length ? bufs[o.fd % bufs.length] : null;
          const st = b ? r.proc.fstat(b.n) : null;
          const ino = st ? String(st.st_ino) : String(NO_INO_BASE + o.fd);
          this.out(b ? `r.readFile(\`/sys/kernel/dmabuf/buffers/\${r.proc.fstat(${b.v}).st_ino}/size\`);` : `r.readFile('/sys/kernel/dmabuf/buffers/${ino}/size');`);
          r.readFile(`/sys/kernel/dmabuf/buffers/${ino}/size`);
        } else {
          const path = o.which === 0 ? '/sys/kernel/debug/dma_buf/bufinfo' : '/sys/kernel/debug/sync/info';
          this.out(`r.readFile('${path}');`);
          r.readFile(path);
        }
        break;
      }
      case 'drm':
        this.drm(o);
        break;
      case 'rawIoctl': {
        const f = this.fdOf(undefined, o.fd);
        if (o.arg instanceof Uint8Array) {
          // At least 16 bytes: requests that say no size may still read an int (FIBMAP) or a pointer's worth.
          const raw = new Uint8Array(Math.max(16, o.arg.length));
          raw.set(o.arg);
          const b = this.sanitize(o.request, raw, true);
          this.structIoctl(f, o.request, b, 'other');
        } else {
          this.ioctl(f, o.request, o.arg);
        }
        break;
      }
      case 'fcntl': {
        const f = this.fdOf(undefined, o.fd);
        this.out(`r.fcntl(${f.v}, ${o.cmd}, ${lit(o.arg >>> 0)});`);
        const ret = r.fcntl(f.n, o.cmd, o.arg >>> 0);
        // F_DUPFD(_CLOEXEC) made an fd (cmd 0 and 1030 are not in the vocabulary, but a sequence may grow one)
        if (ret >= 0 && (o.cmd === u.F_DUPFD || o.cmd === u.F_DUPFD_CLOEXEC)) this.keep(ret, this.heldFd(f.n)?.kind ?? 'other');
        break;
      }
    }
  }

  /** Read a byte of a new mapping, and write one if it is writable, where the real kernel has the page. */
  private touch(view: Uint8Array, v: string, o: Extract<DiffOp, { op: 'mmap' }>, f: FdArg): void {
    // A PROT_NONE mapping's view is the backend's (docs/linux-differences.md, prot-none-view), and a PROT_EXEC-only
    // page is execute-only where the CPU has protection keys (Debian's kernel on qemu's -cpu max): reading it is
    // SIGSEGV, the end of Node. Neither is touched.
    if (!view.length || !(o.prot & (u.PROT_READ | u.PROT_WRITE))) return;
    const i = o.touch % view.length;
    const held = 'kind' in f ? f : undefined;
    if (!(o.flags & u.MAP_ANONYMOUS)) {
      // A memfd's pages end at its size (rounded up to a page); a device's mapping has its own
      if (held?.kind === 'memfd' && o.offset + i >= Math.ceil((held.size ?? 0) / PAGE) * PAGE) return;
      if (held?.kind !== 'memfd' && held?.kind !== 'buf') return;
    }
    this.out(`if (typeof ${v} !== 'number' && ${v}.length > ${i}) r.peek(${v}, ${i}, 1);`);
    this.r.peek(view, i, 1);
    if (o.prot & u.PROT_WRITE) {
      this.out(`if (typeof ${v} !== 'number' && ${v}.length > ${i}) r.poke(${v}, ${i}, [0x5a]);`);
      this.r.poke(view, i, [0x5a]);
    }
  }

  private bufIoctl(o: Extract<DiffOp, { op: 'bufIoctl' }>): void {
    const buf = this.fdOf('buf', o.buf);
    switch (o.which) {
      case 0: {
        const flags = o.flags & 1 ? u.DMA_BUF_SYNC_END | u.DMA_BUF_SYNC_RW : o.flags >>> 0;
        this.ioctl(buf, u.DMA_BUF_IOCTL_SYNC, this.sanitize(u.DMA_BUF_IOCTL_SYNC, this.shape(o.v, u.dma_buf_sync.encode({ flags: BigInt(flags) }), o.noise), o.v === 'random'));
        break;
      }
      case 1:
        this.ioctl(buf, u.DMA_BUF_SET_NAME_B, this.sanitize(u.DMA_BUF_SET_NAME_B, this.shape(o.v, new TextEncoder().encode(`${o.name}\0`), o.noise), false));
        break;
      case 2: {
        const arg = this.shape(o.v, u.dma_buf_export_sync_file.encode({ flags: o.flags & 3 || 1, fd: -1 }), o.noise);
        this.structIoctl(buf, u.DMA_BUF_IOCTL_EXPORT_SYNC_FILE, this.sanitize(u.DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg, o.v === 'random'), 'sync');
        break;
      }
      case 3: {
        const arg = this.shape(o.v, u.dma_buf_import_sync_file.encode({ flags: o.flags & 3 || 2, fd: this.fdOf('sync', o.fd).n }), o.noise);
        this.ioctl(buf, u.DMA_BUF_IOCTL_IMPORT_SYNC_FILE, this.sanitize(u.DMA_BUF_IOCTL_IMPORT_SYNC_FILE, arg, o.v === 'random'));
        break;
      }
      case 4:
        if (o.flags & 1) this.ioctl(buf, u.DMA_BUF_SET_NAME_A, 0);
        else this.ioctl(buf, u.DMA_BUF_SET_NAME_A, this.sanitize(u.DMA_BUF_SET_NAME_A, new TextEncoder().encode(`${o.name}\0`), false));
        break;
      default:
        this.out(`r.readFile(\`/proc/self/fdinfo/\${${buf.v}}\`);`);
        this.r.readFile(`/proc/self/fdinfo/${buf.n}`);
    }
  }

  private drm(o: Extract<DiffOp, { op: 'drm' }>): void {
    const drm = this.fdOf('drm', o.handle);
    const h = this.handles.length ? this.handles[o.handle % this.handles.length] : o.handle >>> 0;
    const s = (req: number, valid: Uint8Array): Uint8Array => this.sanitize(req, this.shape(o.v, valid, o.noise), o.v === 'random');
    switch (o.which) {
      case 0: {
        const arg = s(u.DRM_IOCTL_MODE_CREATE_DUMB, u.drm_mode_create_dumb.encode({ width: o.w >>> 0, height: o.h >>> 0, bpp: o.bpp >>> 0 }));
        if ((this.ioctl(drm, u.DRM_IOCTL_MODE_CREATE_DUMB, arg).ret ?? -1) >= 0) this.handles.push(u.drm_mode_create_dumb.get(arg, 'handle'));
        break;
      }
      case 1: {
        const arg = s(u.DRM_IOCTL_PRIME_HANDLE_TO_FD, u.drm_prime_handle.encode({ handle: h, flags: o.w & 1 ? u.O_RDWR | u.O_CLOEXEC : o.w >>> 0 }));
        this.structIoctl(drm, u.DRM_IOCTL_PRIME_HANDLE_TO_FD, arg, 'buf');
        break;
      }
      case 2: {
        const arg = s(u.DRM_IOCTL_PRIME_FD_TO_HANDLE, u.drm_prime_handle.encode({ fd: this.fdOf('buf', o.fd).n }));
        if ((this.ioctl(drm, u.DRM_IOCTL_PRIME_FD_TO_HANDLE, arg).ret ?? -1) >= 0) this.handles.push(u.drm_prime_handle.get(arg, 'handle'));
        break;
      }
      case 3: {
        const arg = s(u.DRM_IOCTL_MODE_MAP_DUMB, u.drm_mode_map_dumb.encode({ handle: h }));
        const { ret, arg: argName } = this.ioctl(drm, u.DRM_IOCTL_MODE_MAP_DUMB, arg);
        if ((ret ?? -1) >= 0) {
          const len = (o.w % 16) * PAGE || PAGE;
          const v = this.newVar('m');
          this.out(`const ${v} = r.mmap(${len}, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, ${drm.v}, u.drm_mode_map_dumb.get(${argName}, 'offset'));`);
          const view = this.r.mmap(len, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, drm.n, u.drm_mode_map_dumb.get(arg, 'offset'));
          if (typeof view !== 'number') this.maps.push({ view, v });
        }
        break;
      }
      case 4: {
        const { ret } = this.ioctl(drm, u.DRM_IOCTL_GEM_CLOSE, s(u.DRM_IOCTL_GEM_CLOSE, u.drm_gem_close.encode({ handle: h })));
        if (ret === 0 && o.v === 'valid' && this.handles.includes(h)) this.handles.splice(this.handles.indexOf(h), 1);
        break;
      }
      default: {
        const room = 16;
        const at = u.drm_version.size;
        const valid = u.drm_version.encode({ name_len: room, name: at, date_len: room, date: at + room, desc_len: room, desc: at + 2 * room }, 3 * room);
        this.ioctl(drm, u.DRM_IOCTL_VERSION, s(u.DRM_IOCTL_VERSION, valid));
      }
    }
  }
}
