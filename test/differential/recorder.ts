/**
 * A Recorder wraps a process (either backend's ProcessLike): every call made
 * through it runs on the process and is recorded as one line, strace-like:
 * the call, its arguments (ioctl requests by their Linux name, flags by
 * name), its outcome (`= 3`, `= -1 ENOENT`). An ioctl's argument is decoded
 * again after the call with its declaration (`→ {field=value, ...}`), so the
 * output fields are compared too. Texts (fdinfo, bufinfo, sync/info, sysfs),
 * fstat fields, readlink targets and mapped bytes are recorded line by line.
 *
 * Values Linux leaves to chance are recorded as tokens (normalize.ts), so
 * the recordings of two backends compare as text once normalised. Calls
 * return what C would: a value, or a negative errno (an object-returning
 * call returns the object, or the negative errno).
 */
import * as u from '../../src/uapi/index.js';
import { Scalar, sizeofType, Struct, type AnyStruct, type Fields, type FieldDecl } from '../../src/uapi/struct.js';
import { ioctlShape, offsetsOf } from '../../src/native/ioctl-shapes.js';
import type { ProcessLike } from '../../src/machine/process-api.js';
import type { PollFdEntry } from '../../src/machine/syscalls.js';
import type { Stat } from '../../src/uapi/stat.js';
import { tagFenceName, tagText, tok, type Line, type Tok } from './normalize.js';
import {
  cEscape, charArray, errnoStr, fcntlCmd, fileMode, FIELD_FLAGS, flagNames, hex, MFD_FLAGS, mapFlags, num, openFlags, POLL, PROT, SEALS, whence,
} from './format.js';

type Part = string | Tok;

/** A call's failure: the negative errno (and the syscall the backend named, when it differs). */
interface Failure {
  errno: number;
  syscall?: string;
  thrown?: string;
}

/** Thrown by Recorder.skip(): the program cannot run here. */
export class Skip extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** The ioctl request's Linux name, or its _IOC() spelling. */
export function ioctlName(request: number): string {
  const d = u.ioctlInfo(request);
  if (d) return d.name;
  const dir = ['_IOC_NONE', '_IOC_WRITE', '_IOC_READ', '_IOC_READ|_IOC_WRITE'][u._IOC_DIR(request)];
  const t = u._IOC_TYPE(request);
  const type = t >= 0x20 && t < 0x7f ? `'${String.fromCharCode(t)}'` : `0x${t.toString(16)}`;
  return `_IOC(${dir}, ${type}, 0x${u._IOC_NR(request).toString(16).padStart(2, '0')}, ${u._IOC_SIZE(request)})`;
}

export class Recorder {
  /** the recorded lines */
  readonly lines: Line[] = [];
  /** fd number -> its current identity (kept after close, so a stale number still names the file it was) */
  private readonly fdIds = new Map<number, string>();
  private readonly liveFds = new Set<number>();
  private generation = 0;
  /** live mappings: view -> the ordinal of the mmap call that made it */
  private readonly maps = new Map<Uint8Array, number>();
  private mmapCalls = 0;
  /** the known ioctl of the same type and number as the unknown request being recorded */
  private sibling: u.IoctlDecl | null = null;
  /** DRM fake offsets the program learned (MAP_DUMB), so an mmap at one names it */
  private readonly offsets: bigint[] = [];

  constructor(readonly proc: ProcessLike, readonly backend: 'emulator' | 'linux') {}

  // ---- tokens ----

  /** An fd as recorded: a token if some call returned it, else the number itself. */
  fd(n: number): Part {
    const id = this.fdIds.get(n);
    return id === undefined ? String(n) : tok('fd', n, id);
  }

  private adopt(n: number): Tok {
    const id = `${n}.${++this.generation}`;
    this.fdIds.set(n, id);
    this.liveFds.add(n);
    return tok('fd', n, id);
  }

  private dropped(n: number): void {
    this.liveFds.delete(n);
  }

  /** A path with the arbitrary values in it as tokens: /proc/<pid>/, an fd under /proc/.../fd(info)/, a dma-buf's inode under /sys/kernel/dmabuf/buffers/. */
  private path(p: string): Part[] {
    const out: Part[] = ['"'];
    const re = /^(\/proc\/)(self|\d+)(\/fd(?:info)?\/)(\d+)(.*)$|^(\/proc\/)(\d+)(\/.*)$|^(\/sys\/kernel\/dmabuf\/buffers\/)(\d+)(.*)$/;
    const m = re.exec(p);
    if (!m) out.push(p);
    else if (m[1]) out.push(m[1], m[2] === 'self' ? 'self' : tok('pid', Number(m[2])), m[3], this.fd(Number(m[4])), m[5]);
    else if (m[6]) out.push(m[6], tok('pid', Number(m[7])), m[8]);
    else out.push(m[9], tok('ino', Number(m[10])), m[11]);
    out.push('"');
    return out;
  }

  // ---- recording ----

  /** A line of its own (a comment in the recording: `# text`). */
  note(text: string): void {
    this.lines.push([`# ${text}`]);
  }

  /** Stop the program: it needs what this kernel lacks. */
  skip(reason: string): never {
    throw new Skip(reason);
  }

  private push(...parts: (Part | Part[])[]): void {
    this.lines.push(parts.flat());
  }

  private run<T>(fn: () => T): T | Failure {
    try {
      return fn();
    } catch (e) {
      const err = e as { errno?: unknown; syscall?: unknown; name?: string };
      if (typeof err.errno === 'number') return { errno: err.errno, syscall: typeof err.syscall === 'string' ? err.syscall : undefined };
      return { errno: -u.EINVAL, thrown: err.name ?? 'Error' };
    }
  }

  private failure(r: unknown): r is Failure {
    return typeof r === 'object' && r !== null && 'errno' in r && !(r instanceof Uint8Array) && !Array.isArray(r) && typeof (r as Failure).errno === 'number' && Object.keys(r).every((k) => k === 'errno' || k === 'syscall' || k === 'thrown');
  }

  private outcome(f: Failure, call: string): string {
    if (f.thrown) return ` = throws ${f.thrown}`;
    const via = f.syscall && f.syscall !== call ? ` (${f.syscall})` : '';
    return ` = -1 ${errnoStr(f.errno)}${via}`;
  }

  // ---- the calls ----

  /** open(path, flags) */
  open(path: string, flags: number = u.O_RDONLY): number {
    const r = this.run(() => this.proc.open(path, flags));
    if (this.failure(r)) {
      this.push('open(', this.path(path), `, ${openFlags(flags)})`, this.outcome(r, 'open'));
      return r.errno;
    }
    this.push('open(', this.path(path), `, ${openFlags(flags)}) = `, this.adopt(r));
    return r;
  }

  /** close(fd) */
  close(fd: number): number {
    const head = this.fd(fd);
    const r = this.run(() => this.proc.close(fd));
    // Linux frees the number whatever close answers.
    this.dropped(fd);
    if (this.failure(r)) {
      this.push('close(', head, ')', this.outcome(r, 'close'));
      return r.errno;
    }
    this.push('close(', head, ') = 0');
    return 0;
  }

  /** dup(fd) */
  dup(fd: number): number {
    const r = this.run(() => this.proc.dup(fd));
    if (this.failure(r)) {
      this.push('dup(', this.fd(fd), ')', this.outcome(r, 'dup'));
      return r.errno;
    }
    this.push('dup(', this.fd(fd), ') = ', this.adopt(r));
    return r;
  }

  /** fcntl(fd, cmd, arg) */
  fcntl(fd: number, cmd: number, arg = 0): number {
    const argStr = cmd === u.F_SETFL ? openFlags(arg) : cmd === u.F_ADD_SEALS ? flagNames(arg, SEALS) : cmd === u.F_SETFD ? flagNames(arg, [['FD_CLOEXEC', u.FD_CLOEXEC]]) : String(arg);
    const head: Part[] = ['fcntl(', this.fd(fd), `, ${fcntlCmd(cmd)}`, cmd === u.F_GETFL || cmd === u.F_GETFD || cmd === u.F_GET_SEALS ? '' : `, ${argStr}`, ')'];
    const r = this.run(() => this.proc.fcntl(fd, cmd, arg));
    if (this.failure(r)) {
      this.push(head, this.outcome(r, 'fcntl'));
      return r.errno;
    }
    let shown: Part;
    if (cmd === u.F_DUPFD || cmd === u.F_DUPFD_CLOEXEC) shown = this.adopt(r);
    else if (cmd === u.F_GETFL) shown = `${r} (${openFlags(r)})`;
    else if (cmd === u.F_GET_SEALS) shown = `${r} (${flagNames(r, SEALS)})`;
    else if (cmd === u.F_GETFD) shown = `${r} (${flagNames(r, [['FD_CLOEXEC', u.FD_CLOEXEC]])})`;
    else shown = String(r);
    this.push(head, ' = ', shown);
    return r;
  }

  /** lseek(fd, offset, whence) */
  lseek(fd: number, offset: number, wh: number): number {
    const head: Part[] = ['lseek(', this.fd(fd), `, ${offset}, ${whence(wh)})`];
    const r = this.run(() => this.proc.lseek(fd, offset, wh));
    if (this.failure(r)) {
      this.push(head, this.outcome(r, 'lseek'));
      return r.errno;
    }
    this.push(head, ` = ${r}`);
    return r;
  }

  /** read(fd, length): the bytes (recorded as a C string), or a negative errno. */
  read(fd: number, length: number): Uint8Array | number {
    const head: Part[] = ['read(', this.fd(fd), `, ${length})`];
    const r = this.run(() => this.proc.read(fd, length));
    if (this.failure(r)) {
      this.push(head, this.outcome(r, 'read'));
      return r.errno;
    }
    this.push(head, ` = ${r.length} ${cEscape(r)}`);
    return r;
  }

  /** write(fd, bytes) */
  write(fd: number, bytes: Uint8Array | string): number {
    const b = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
    const head: Part[] = ['write(', this.fd(fd), `, ${cEscape(b)}, ${b.length})`];
    const r = this.run(() => this.proc.write(fd, b));
    if (this.failure(r)) {
      this.push(head, this.outcome(r, 'write'));
      return r.errno;
    }
    this.push(head, ` = ${r}`);
    return r;
  }

  /** memfd_create(name, flags) */
  memfdCreate(name: string, flags = 0): number {
    const head = `memfd_create(${JSON.stringify(name)}, ${flagNames(flags, MFD_FLAGS)})`;
    const r = this.run(() => this.proc.memfdCreate(name, flags));
    if (this.failure(r)) {
      this.push(head, this.outcome(r, 'memfd_create'));
      return r.errno;
    }
    this.push(head, ' = ', this.adopt(r));
    return r;
  }

  /** ftruncate(fd, length) */
  ftruncate(fd: number, length: number): number {
    const head: Part[] = ['ftruncate(', this.fd(fd), `, ${length})`];
    const r = this.run(() => this.proc.ftruncate(fd, length));
    if (this.failure(r)) {
      this.push(head, this.outcome(r, 'ftruncate'));
      return r.errno;
    }
    this.push(head, ' = 0');
    return 0;
  }

  /**
   * fstat(fd): the struct, each field on a line of its own (st_ino and
   * st_dev as tokens, nonzero times as tokens, st_rdev as major:minor with
   * its dynamically allocated halves as tokens).
   */
  fstat(fd: number): Stat | number {
    const head: Part[] = ['fstat(', this.fd(fd), ')'];
    const r = this.run(() => this.proc.fstat(fd));
    if (this.failure(r)) {
      this.push(head, this.outcome(r, 'fstat'));
      return r.errno;
    }
    this.push(head, ' = 0');
    const time = (s: bigint, ns: bigint): Part => (s === 0n && ns === 0n ? '0' : tok('time', `${s}.${String(ns).padStart(9, '0')}`));
    this.push(`  st_mode = ${fileMode(r.st_mode)}`);
    this.push(`  st_size = ${r.st_size}`);
    this.push(`  st_nlink = ${r.st_nlink}`);
    this.push('  st_rdev = ', this.devNumber(r.st_rdev, true));
    this.push('  st_dev = ', this.devNumber(r.st_dev, false));
    this.push('  st_ino = ', tok('ino', r.st_ino));
    this.push(`  st_uid = ${r.st_uid}, st_gid = ${r.st_gid}`);
    this.push(`  st_blksize = ${r.st_blksize}, st_blocks = ${r.st_blocks}`);
    this.push('  st_atime = ', time(r.st_atime, r.st_atime_nsec), ', st_mtime = ', time(r.st_mtime, r.st_mtime_nsec), ', st_ctime = ', time(r.st_ctime, r.st_ctime_nsec));
    return r;
  }

  /**
   * A device number (new_encode_dev() in cp_new_stat) as major:minor. st_dev
   * of the filesystems here is a token (pseudo filesystems get anonymous
   * device numbers). In st_rdev, DRM's major (226) and misc's (10) are fixed
   * by Linux, as are DRM's minors; a dynamic major (dma-heap's) and misc's
   * dynamic minors (udmabuf's) are tokens. 0 stays 0.
   */
  private devNumber(v: bigint, rdev: boolean): Part[] {
    if (v === 0n) return ['0'];
    const n = Number(v);
    const major = (n >>> 8) & 0xfff;
    const minor = (n & 0xff) | ((n >>> 12) & 0xfff00);
    if (!rdev) return [tok('dev', `${major}:${minor}`)];
    const DRM_MAJOR = 226;
    const MISC_MAJOR = 10;
    if (major === DRM_MAJOR) return [`${major}:${minor}`];
    if (major === MISC_MAJOR) return [`${major}:`, tok('dev', `minor ${minor}`)];
    return [tok('dev', `major ${major}`), `:${minor}`];
  }

  /** readlink(path) */
  readlink(path: string): string | number {
    const head: Part[] = ['readlink(', ...this.path(path), ')'];
    const r = this.run(() => this.proc.readlink(path));
    if (this.failure(r)) {
      this.push(head, this.outcome(r, 'readlink'));
      return r.errno;
    }
    // a link into procfs or sysfs names a pid, an fd or an inode: tokens, as in a path argument
    this.push(head, ' = ', ...this.path(r));
    return r;
  }

  /** The text of a procfs/debugfs/sysfs file, a line per line (`  | ...`). */
  readFile(path: string): string | number {
    const head: Part[] = ['readFile(', ...this.path(path), ')'];
    const r = this.run(() => this.proc.readFile(path));
    if (this.failure(r)) {
      this.push(head, this.outcome(r, 'readFile'));
      return r.errno;
    }
    const tagged = tagText(path, r);
    this.push(head, ` = ${tagged.length} lines${r.endsWith('\n') || r === '' ? '' : ' (no final newline)'}`);
    for (const l of tagged) this.lines.push(['  | ', ...l.map((p) => (typeof p === 'string' ? p.replace(/\t/g, '\\t') : p))]);
    return r;
  }

  /**
   * readdir(path): the names, sorted (Linux fixes no order), with the
   * inode-named entries of /sys/kernel/dmabuf/buffers as tokens (in the
   * order of their numbers).
   */
  readdir(path: string): string[] | number {
    const head: Part[] = ['readdir(', ...this.path(path), ')'];
    const r = this.run(() => this.proc.readdir(path));
    if (this.failure(r)) {
      this.push(head, this.outcome(r, 'readdir'));
      return r.errno;
    }
    const inodes = /^\/sys\/kernel\/dmabuf\/buffers\/?$/.test(path);
    // inode-named entries in the order of their numbers (allocated in creation order on every backend)
    const names = inodes ? [...r].sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0)) : [...r].sort();
    const parts: Part[] = [];
    names.forEach((n, i) => {
      if (i) parts.push(', ');
      parts.push(inodes && /^\d+$/.test(n) ? tok('ino', Number(n)) : JSON.stringify(n));
    });
    if (inodes) {
      // sorted by token, not by number: the numbers are arbitrary
      this.push(head, ` = ${names.length} entries`);
      for (const n of names) this.push('  ', /^\d+$/.test(n) ? tok('ino', Number(n)) : JSON.stringify(n));
    } else {
      this.push(head, ' = [', parts, ']');
    }
    return r;
  }

  /** mmap(NULL, length, prot, flags, fd, offset): the view, or a negative errno. */
  /**
   * mmap(NULL, length, prot, flags, fd, offset): the view, or a negative
   * errno. A mapping is named by the ordinal of the mmap call that made it
   * (`map#3`: the program's third mmap), the same on every backend whatever
   * the calls before it answered; its address is never shown.
   */
  mmap(length: number, prot: number, flags: number, fd: number, offset: number | bigint = 0): Uint8Array | number {
    const id = ++this.mmapCalls;
    const head: Part[] = [`mmap(NULL, ${length}, ${flagNames(prot, PROT, 'PROT_NONE')}, ${mapFlags(flags)}, `, this.fd(fd), ', ', ...this.offset(offset), ')'];
    const r = this.run(() => this.proc.mmap(length, prot, flags, fd, offset));
    if (this.failure(r)) {
      this.push(head, this.outcome(r, 'mmap'));
      return r.errno;
    }
    this.maps.set(r, id);
    this.push(head, ` = map#${id} (${r.length} bytes)`);
    return r;
  }

  /** An mmap offset: a DRM fake offset the program learned (plus what it added) as a token, else the number. */
  private offset(v: number | bigint): Part[] {
    const b = BigInt(v);
    const base = this.offsets.filter((o) => o <= b && b - o < 1n << 32n).sort((x, y) => (y > x ? 1 : -1))[0];
    if (base === undefined) return [num(v)];
    return b === base ? [tok('offset', base)] : [tok('offset', base), `+${b - base}`];
  }

  private mapTok(view: Uint8Array): Part {
    const id = this.maps.get(view);
    return id === undefined ? '(not a mapping)' : `map#${id}`;
  }

  /** munmap(view) */
  munmap(view: Uint8Array): number {
    const head: Part[] = ['munmap(', this.mapTok(view), ')'];
    const r = this.run(() => this.proc.munmap(view));
    this.maps.delete(view);
    if (this.failure(r)) {
      this.push(head, this.outcome(r, 'munmap'));
      return r.errno;
    }
    this.push(head, ' = 0');
    return 0;
  }

  /** Read bytes of a mapping (recorded in hex). */
  peek(view: Uint8Array, offset: number, length: number): Uint8Array {
    const b = view.slice(offset, offset + length);
    this.push(this.mapTok(view), `[${offset}..${offset + length}] = ${hex(b)}`);
    return b;
  }

  /** Write bytes into a mapping. */
  poke(view: Uint8Array, offset: number, bytes: Uint8Array | number[]): void {
    const b = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
    view.set(b, offset);
    this.push(this.mapTok(view), `[${offset}..${offset + b.length}] := ${hex(b)}`);
  }

  /** poll(fds, timeout): the count, with every entry's revents. */
  poll(entries: { fd: number; events: number }[], timeoutMs = 0): number {
    const fds: PollFdEntry[] = entries.map((e) => ({ fd: e.fd, events: e.events, revents: 0 }));
    const list = (withRevents: boolean): Part[] => {
      const out: Part[] = ['['];
      fds.forEach((e, i) => {
        if (i) out.push(', ');
        out.push('{', this.fd(e.fd), `, ${withRevents ? `revents=${flagNames(e.revents ?? 0, POLL)}` : flagNames(e.events, POLL)}}`);
      });
      out.push(']');
      return out;
    };
    const head: Part[] = ['poll(', ...list(false), `, ${timeoutMs})`];
    const r = this.run(() => this.proc.poll(fds, timeoutMs));
    if (this.failure(r)) {
      this.push(head, this.outcome(r, 'poll'));
      return r.errno;
    }
    this.push(head, ` = ${r} `, list(true));
    return r;
  }

  /**
   * ioctl(fd, request, arg): the request by name, the argument decoded with
   * its declaration, the outcome, then the argument decoded again after the
   * call (`  → {...}`) and what its user pointers reference.
   */
  ioctl(fd: number, request: number, arg?: Uint8Array | number): number {
    const d = u.ioctlInfo(request);
    this.sibling = d ? null : u.IOCTLS.find((x) => u._IOC_TYPE(x.request) === u._IOC_TYPE(request) && u._IOC_NR(x.request) === u._IOC_NR(request)) ?? null;
    const shape = ioctlShape(request);
    const fdFields = new Set(arg instanceof Uint8Array ? [...offsetsOf(shape?.fdIn, arg), ...(Array.isArray(shape?.fdOut) ? shape!.fdOut : [])] : []);
    const head: Part[] = ['ioctl(', this.fd(fd), `, ${ioctlName(request)}`];
    if (arg !== undefined) head.push(', ', ...this.ioctlArg(d?.arg, arg, fdFields));
    head.push(')');
    const r = this.run(() => this.proc.ioctl(fd, request, arg));
    if (this.failure(r)) {
      this.push(head, this.outcome(r, 'ioctl'));
    } else {
      // The fds the call made: its return value, or the struct's out fields.
      let ret: Part = String(r);
      if (shape?.fdOut === 'ret') ret = this.adopt(r);
      else if (Array.isArray(shape?.fdOut) && arg instanceof Uint8Array) {
        const dv = new DataView(arg.buffer, arg.byteOffset, arg.byteLength);
        for (const at of shape!.fdOut) if (at + 4 <= arg.length && dv.getInt32(at, true) >= 0) this.adopt(dv.getInt32(at, true));
      }
      this.push(head, ' = ', ret);
    }
    if (arg instanceof Uint8Array) {
      this.push('  → ', ...this.ioctlArg(d?.arg, arg, fdFields));
      if (d?.arg instanceof Struct && arg.length >= d.arg.size) this.pointees(d.arg, arg);
    }
    return this.failure(r) ? r.errno : r;
  }

  private ioctlArg(decl: u.IoctlArg | undefined, arg: Uint8Array | number, fdFields: Set<number>): Part[] {
    if (typeof arg === 'number') return [arg === 0 ? 'NULL' : num(arg)];
    if (decl instanceof Struct && arg.length >= decl.size) {
      const out = this.struct(decl, arg, 0, fdFields);
      if (decl.flexName === null && arg.length > decl.size) out.push(` + ${arg.length - decl.size} bytes`);
      return out;
    }
    if (decl === undefined) {
      // Another size or direction of a known request (same type and number): the fields that fit, by its declaration.
      const sibling = this.sibling?.arg;
      if (sibling instanceof Struct && sibling.flexName === null) {
        const padded = new Uint8Array(Math.max(sibling.size, arg.length));
        padded.set(arg);
        const fits = new Set(Object.entries(sibling.fields as Fields).filter(([, f]) => f.type !== 'flex' && f.offset + sizeofType(f.type) <= arg.length).map(([k]) => k));
        const out: Part[] = ['{'];
        let first = true;
        for (const [name, f] of Object.entries(sibling.fields as Fields)) {
          if (!fits.has(name) || f.type === 'flex') continue;
          if (!first) out.push(', ');
          first = false;
          out.push(`${name}=`, ...this.field(sibling, name, f, padded, 0, fdFields));
        }
        out.push(`} (${arg.length} bytes as struct ${sibling.name}, ${sibling.size} bytes)`);
        return out;
      }
    }
    if (decl instanceof Scalar && arg.length === decl.size) return [`[${num(decl.decode(arg))}]`];
    if (decl === 'string pointer') return [cEscape(arg.subarray(0, arg.indexOf(0) < 0 ? arg.length : arg.indexOf(0))), arg.indexOf(0) < 0 ? ' (no NUL)' : '', ` (${arg.length} bytes)`];
    return [`<${arg.length} bytes: ${hex(arg)}>`];
  }

  /** A struct as `{field=value, ...}` (a flexible array's items inline). */
  private struct(s: AnyStruct, bytes: Uint8Array, at: number, fdFields: Set<number>): Part[] {
    const out: Part[] = ['{'];
    let first = true;
    for (const [name, f] of Object.entries(s.fields as Fields)) {
      if (!first) out.push(', ');
      first = false;
      if (f.type === 'flex') {
        const n = Number(s.get(bytes, f.count, at));
        const room = Math.floor((bytes.length - at - f.offset) / f.of.size);
        out.push(`${name}=[`);
        for (let i = 0; i < Math.min(n, room); i++) {
          if (i) out.push(', ');
          out.push(...this.struct(f.of, bytes, at + f.offset + i * f.of.size, fdFields));
        }
        if (n > room) out.push(`${room ? ', ' : ''}... ${n - room} beyond the argument`);
        out.push(']');
        continue;
      }
      out.push(`${name}=`, ...this.field(s, name, f, bytes, at, fdFields));
    }
    out.push('}');
    return out;
  }

  private field(s: AnyStruct, name: string, f: FieldDecl, bytes: Uint8Array, at: number, fdFields: Set<number>): Part[] {
    const v = s.get(bytes, name, at) as number | bigint | Uint8Array;
    const key = `${s.name}.${name}`;
    if (v instanceof Uint8Array) {
      // sync_file_get_name()'s generated names carry a fence context
      if (key === 'sync_file_info.name') {
        const nul = v.indexOf(0);
        const tagged = nul > 0 ? tagFenceName(new TextDecoder().decode(v.subarray(0, nul))) : [];
        if (tagged.length > 1) {
          // The context's digits are arbitrary, so is the name's length, and with it how many of the
          // caller's bytes stay after the NUL: those are shown as runs without their counts (`\0…*…`).
          const tail = charArray(v.subarray(nul + 1)).slice(1, -1).replace(/(\\x[0-9a-f]{2}|\\.|.)\1*/g, '$1…');
          return ['"', ...tagged, tail ? `\\0${tail}` : '', '"'];
        }
      }
      return [charArray(v)];
    }
    if (f.to) return [v === 0n ? 'NULL' : `@${v}`];
    if (fdFields.has(at + f.offset) && typeof v === 'number' && v >= 0) return [this.fd(v)];
    const flags = FIELD_FLAGS[key];
    if (flags) return [flags(v)];
    if (key === 'sync_fence_info.timestamp_ns' && v !== 0n) return [tok('time', v)];
    if ((key === 'drm_gem_flink.name' || key === 'drm_gem_open.name') && v !== 0) return [tok('flink', v)];
    if (key === 'drm_mode_map_dumb.offset' && v !== 0n) {
      if (!this.offsets.includes(v as bigint)) this.offsets.push(v as bigint);
      return [tok('offset', v)];
    }
    return [num(v)];
  }

  /** What the struct's user pointers reference, after the call: records, bytes or strings, a line each. */
  private pointees(s: AnyStruct, bytes: Uint8Array): void {
    for (const p of u.userPointers(s, bytes)) {
      if (!p.inside) {
        this.push(`  ${p.path} → outside the argument`);
        continue;
      }
      const at = Number(p.target);
      if (p.to.kind === 'records') {
        const of = p.to.of;
        for (let i = 0; i * of.size < p.length; i++) this.push(`  ${p.path}[${i}] = `, ...this.struct(of, bytes, at + i * of.size, new Set()));
      } else if (p.to.kind === 'bytes') {
        this.push(`  ${p.path} → ${cEscape(bytes.subarray(at, at + p.length))}`);
      } else {
        this.push(`  ${p.path} → ${cEscape(bytes.subarray(at, at + p.length - 1))}`);
      }
    }
  }

  /** Close and unmap what the program left (not recorded): the process ends clean. */
  finish(): { fds: number; maps: number } {
    const left = { fds: this.liveFds.size, maps: this.maps.size };
    for (const view of this.maps.keys()) {
      try {
        this.proc.munmap(view);
      } catch {}
    }
    this.maps.clear();
    for (const fd of this.liveFds) {
      try {
        this.proc.close(fd);
      } catch {}
    }
    this.liveFds.clear();
    return left;
  }
}
