/**
 * The syscall table: every call a process can make, named once, with how
 * its arguments and its answer travel through a slot of the channel. The
 * process side (both twins of every call, see process.ts) packs from this
 * table and the kernel side (kernel-calls.ts) unpacks from it, so the two
 * cannot drift. Importing this file loads no kernel code.
 */
import { DATA_SIZE, type SideBody, type Slot } from './protocol.js';

/**
 * How one argument travels.
 * - `int`: a number (a safe integer, possibly negative) in an argument word
 * - `u64`: a number or bigint carried exactly as 64 bits (offsets, rlimits)
 * - `path`, `str`: a string, as UTF-8 bytes in the data area
 * - `bytes`: a Uint8Array in the data area (input only)
 * - `ioarg`: an ioctl argument: a Uint8Array holding a C struct (in the
 *   data area, copied back into the caller's array afterwards) or a number
 * - `pollfds`: poll's entries, as (fd, events) int pairs; revents come back
 * - `mapping`: a view mmap returned, carried as the kernel's mapping id
 */
export type ArgKind = 'int' | 'u64' | 'path' | 'str' | 'bytes' | 'ioarg' | 'pollfds' | 'mapping';

/**
 * How the answer travels: `int` (the return value), `void` (0),
 * `bytes`/`string` (bytes in the data area, as such or as UTF-8 text),
 * `map` (a zero-copy view, as a side message), `text` and `lines` (long
 * text, as a side message), `words` (64-bit words in the data area).
 */
export type RetKind = 'int' | 'void' | 'bytes' | 'string' | 'map' | 'text' | 'lines' | 'words';

export interface SyscallSpec {
  /** the number in the channel's SYSNO word */
  readonly nr: number;
  /** the name errors carry (Linux's, where the call is one of Linux's) */
  readonly name: string;
  readonly args: readonly ArgKind[];
  readonly ret: RetKind;
  /**
   * One call carried in slot-sized pieces: `read` (argument 1 is a byte
   * count; a short piece ends the call, as a short read would) or `write`
   * (argument 1 is the bytes).
   */
  readonly chunked?: 'read' | 'write';
}

const spec = <const T extends SyscallSpec>(s: T): T => s;

/** Every syscall. The key is the method name on a process (and `<key>Async`). */
export const SYSCALLS = {
  open: spec({ nr: 1, name: 'open', args: ['path', 'int', 'int'], ret: 'int' }),
  close: spec({ nr: 2, name: 'close', args: ['int'], ret: 'void' }),
  dup: spec({ nr: 3, name: 'dup', args: ['int'], ret: 'int' }),
  ioctl: spec({ nr: 4, name: 'ioctl', args: ['int', 'int', 'ioarg'], ret: 'int' }),
  mmap: spec({ nr: 5, name: 'mmap', args: ['int', 'int', 'int', 'int', 'u64'], ret: 'map' }),
  munmap: spec({ nr: 6, name: 'munmap', args: ['mapping'], ret: 'void' }),
  lseek: spec({ nr: 7, name: 'lseek', args: ['int', 'int', 'int'], ret: 'int' }),
  poll: spec({ nr: 8, name: 'poll', args: ['pollfds', 'int'], ret: 'int' }),
  readFile: spec({ nr: 9, name: 'open', args: ['path'], ret: 'text' }),
  memfdCreate: spec({ nr: 10, name: 'memfd_create', args: ['str', 'int'], ret: 'int' }),
  ftruncate: spec({ nr: 11, name: 'ftruncate', args: ['int', 'int'], ret: 'void' }),
  fcntl: spec({ nr: 12, name: 'fcntl', args: ['int', 'int', 'int'], ret: 'int' }),
  read: spec({ nr: 13, name: 'read', args: ['int', 'int'], ret: 'bytes', chunked: 'read' }),
  write: spec({ nr: 14, name: 'write', args: ['int', 'bytes'], ret: 'int', chunked: 'write' }),
  sendFd: spec({ nr: 15, name: 'sendmsg', args: ['int', 'int'], ret: 'string' }),
  receiveFd: spec({ nr: 16, name: 'recvmsg', args: ['str', 'int'], ret: 'int' }),
  exit: spec({ nr: 17, name: 'exit', args: [], ret: 'void' }),
  readdir: spec({ nr: 18, name: 'open', args: ['path'], ret: 'lines' }),
  fstat: spec({ nr: 19, name: 'fstat', args: ['int'], ret: 'bytes' }),
  readlink: spec({ nr: 20, name: 'readlink', args: ['path'], ret: 'string' }),
  prlimit: spec({ nr: 21, name: 'prlimit64', args: ['int', 'int', 'u64', 'u64', 'int'], ret: 'words' }),
  kill: spec({ nr: 22, name: 'kill', args: ['int', 'int'], ret: 'void' }),
  sigaction: spec({ nr: 23, name: 'rt_sigaction', args: ['int', 'int'], ret: 'int' }),
  socketpair: spec({ nr: 24, name: 'socketpair', args: [], ret: 'words' }),
  sendFdTo: spec({ nr: 25, name: 'sendmsg', args: ['int', 'int'], ret: 'void' }),
  receiveFdFrom: spec({ nr: 26, name: 'recvmsg', args: ['int', 'int'], ret: 'int' }),
} as const satisfies Record<string, SyscallSpec>;

export type SyscallName = keyof typeof SYSCALLS;

/** The table by number (what the kernel looks up a request's SYSNO in). */
export const SYSCALL_BY_NR: readonly (SyscallSpec & { key: SyscallName })[] = (() => {
  const out: (SyscallSpec & { key: SyscallName })[] = [];
  for (const [key, s] of Object.entries(SYSCALLS) as [SyscallName, SyscallSpec][]) out[s.nr] = { ...s, key };
  return out;
})();

/** A poll entry (struct pollfd): revents is filled in by the call. */
export interface PollFdEntry {
  fd: number;
  events: number;
  revents?: number;
}

/** The JavaScript value each argument kind takes on the process side. */
export interface ArgValue {
  int: number;
  u64: number | bigint;
  path: string;
  str: string;
  bytes: Uint8Array;
  ioarg: Uint8Array | number | undefined;
  pollfds: PollFdEntry[];
  mapping: Uint8Array;
}

/** The value each argument kind decodes to on the kernel side. */
export interface KernelArgValue {
  int: number;
  u64: bigint;
  path: string;
  str: string;
  bytes: Uint8Array;
  ioarg: Uint8Array | number;
  pollfds: { fd: number; events: number; revents: number }[];
  mapping: number;
}

/** What a kernel handler answers, per return kind (a negative number is an errno, for every kind). */
export interface KernelRetValue {
  int: number;
  void: number;
  bytes: Uint8Array | number;
  string: string | number;
  map: { id: number; view: Uint8Array } | number;
  text: string | number;
  lines: string[] | number;
  words: bigint[] | number;
}

type Kinds<A extends readonly ArgKind[]> = { [I in keyof A]: A[I] extends ArgKind ? KernelArgValue[A[I]] : never };

/** The kernel-side handler of every syscall, typed from the table. */
export type KernelHandlers<Ctx> = {
  [K in SyscallName]: (ctx: Ctx, ...args: Kinds<(typeof SYSCALLS)[K]['args']>) => KernelRetValue[(typeof SYSCALLS)[K]['ret']] | Promise<KernelRetValue[(typeof SYSCALLS)[K]['ret']]>;
};

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A request as the process side packs it: argument words and at most one data argument. */
export interface Request {
  words: (number | bigint)[];
  data: Uint8Array | null;
}

/** An argument a C caller could not have passed (not an integer, out of range): the process turns it into EINVAL. */
export class ArgumentError extends Error {}

function int(v: unknown, i: number): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ArgumentError(`argument ${i + 1} (${String(v)}) is not a safe integer`);
  return v;
}

function u64(v: unknown, i: number): bigint {
  if (typeof v === 'bigint') return BigInt.asUintN(64, v);
  return BigInt.asUintN(64, BigInt(int(v, i)));
}

/**
 * Pack arguments into a request. `mapId` turns a view into the kernel's
 * mapping id (the process keeps that table). Throws ArgumentError for a
 * number that is not a safe integer.
 */
export function packArgs(s: SyscallSpec, values: readonly unknown[], mapId: (view: Uint8Array) => number): Request {
  const words: (number | bigint)[] = [];
  let data: Uint8Array | null = null;
  s.args.forEach((kind, i) => {
    const v = values[i];
    switch (kind) {
      case 'int':
        words.push(int(v, i));
        break;
      case 'u64':
        words.push(u64(v, i));
        break;
      case 'path':
      case 'str':
        data = enc.encode(v as string);
        words.push(0);
        break;
      case 'bytes':
        data = v as Uint8Array;
        words.push(0);
        break;
      case 'ioarg':
        if (v instanceof Uint8Array) {
          data = v;
          words.push(-1);
        } else words.push(int(v, i));
        break;
      case 'pollfds': {
        const fds = v as PollFdEntry[];
        const raw = new Int32Array(fds.length * 2);
        fds.forEach((f, j) => {
          raw[j * 2] = f.fd;
          raw[j * 2 + 1] = f.events;
        });
        data = new Uint8Array(raw.buffer);
        words.push(fds.length);
        break;
      }
      case 'mapping':
        words.push(mapId(v as Uint8Array));
        break;
    }
  });
  return { words, data };
}

/** Write a packed request's arguments into a slot (the caller stores REQ after). */
export function writeRequest(slot: Slot, req: Request): number {
  req.words.forEach((w, i) => {
    if (typeof w === 'bigint') slot.words[i] = w;
    else slot.args[i] = w;
  });
  if (!req.data) return 0;
  if (req.data.length > DATA_SIZE) throw new RangeError(`argument larger than ${DATA_SIZE} bytes`);
  slot.data.set(req.data);
  return req.data.length;
}

/** Unpack a request's arguments on the kernel side, from the same table. */
export function unpackArgs(s: SyscallSpec, slot: Slot, inLen: number): unknown[] {
  const data = (): Uint8Array => slot.data.slice(0, inLen);
  return s.args.map((kind, i) => {
    switch (kind) {
      case 'int':
      case 'mapping':
        return slot.args[i];
      case 'u64':
        return slot.words[i];
      case 'path':
      case 'str':
        return dec.decode(slot.data.subarray(0, inLen));
      case 'bytes':
        return data();
      case 'ioarg':
        return slot.args[i] === -1 ? data() : slot.args[i];
      case 'pollfds': {
        const n = slot.args[i];
        const raw = new Int32Array(data().buffer);
        return Array.from({ length: n }, (_, j) => ({ fd: raw[j * 2], events: raw[j * 2 + 1], revents: 0 }));
      }
    }
  });
}

/**
 * A syscall's packer, made once from its table entry when the process
 * module loads: it writes the arguments straight into a slot (no request
 * object in between) and returns the data length. It throws what
 * packArgs and writeRequest throw: ArgumentError for a number that is not
 * a safe integer, RangeError for data larger than the slot. The hot calls
 * (integer arguments only; ioctl) get a loop-free writer of their own.
 */
export type SlotPacker = (slot: Slot, values: readonly unknown[], mapId: (view: Uint8Array) => number) => number;

export function slotPacker(s: SyscallSpec): SlotPacker {
  const kinds = s.args;
  const n = kinds.length;
  if (kinds.every((k) => k === 'int')) {
    return (slot, values) => {
      const a = slot.args;
      for (let i = 0; i < n; i++) a[i] = int(values[i], i);
      return 0;
    };
  }
  if (n === 3 && kinds[0] === 'int' && kinds[1] === 'int' && kinds[2] === 'ioarg') {
    return (slot, values) => {
      const a = slot.args;
      a[0] = int(values[0], 0);
      a[1] = int(values[1], 1);
      const v = values[2];
      if (!(v instanceof Uint8Array)) {
        a[2] = int(v, 2);
        return 0;
      }
      if (v.length > DATA_SIZE) throw new RangeError(`argument larger than ${DATA_SIZE} bytes`);
      a[2] = -1;
      slot.data.set(v);
      return v.length;
    };
  }
  return (slot, values, mapId) => writeRequest(slot, packArgs(s, values, mapId));
}

/** The kernel side's unpacker of one syscall, made once from the table (integer-only calls read their words directly). */
export type SlotUnpacker = (slot: Slot, inLen: number) => unknown[];

export function slotUnpacker(s: SyscallSpec): SlotUnpacker {
  const n = s.args.length;
  if (s.args.every((k) => k === 'int' || k === 'mapping')) {
    return (slot) => {
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = slot.args[i];
      return out;
    };
  }
  return (slot, inLen) => unpackArgs(s, slot, inLen);
}

/** How the kernel's answer is laid out: the return value, bytes for the data area, a side message. */
export interface Answer {
  ret: number;
  out: Uint8Array | null;
  side: SideBody | null;
}

/**
 * The kernel side: an answer from a handler's result, by the call's return
 * kind. An ioctl's or a poll's input comes back through `args` (the
 * kernel wrote the struct's output fields, poll's revents, into them).
 */
export function packAnswer(s: SyscallSpec, r: unknown, args: unknown[]): Answer {
  if (typeof r === 'number' && (r < 0 || s.ret === 'int' || s.ret === 'void')) {
    let out: Uint8Array | null = null;
    const io = s.args.indexOf('ioarg');
    if (io >= 0 && args[io] instanceof Uint8Array) out = args[io] as Uint8Array;
    const pf = s.args.indexOf('pollfds');
    if (pf >= 0 && r >= 0) out = new Uint8Array(Int32Array.from((args[pf] as { revents: number }[]).map((f) => f.revents)).buffer);
    return { ret: r, out, side: null };
  }
  switch (s.ret) {
    case 'bytes': {
      const b = r as Uint8Array;
      return { ret: b.length, out: b, side: null };
    }
    case 'string':
      return { ret: 0, out: enc.encode(r as string), side: null };
    case 'words': {
      const w = r as bigint[];
      return { ret: 0, out: new Uint8Array(BigUint64Array.from(w).buffer), side: null };
    }
    case 'map': {
      const m = r as { id: number; view: Uint8Array };
      return { ret: m.id, out: null, side: { kind: 'map', sab: m.view.buffer as SharedArrayBuffer, byteOffset: m.view.byteOffset, byteLength: m.view.byteLength } };
    }
    case 'text':
      return { ret: 0, out: null, side: { kind: 'text', text: r as string } };
    case 'lines':
      return { ret: 0, out: null, side: { kind: 'text', text: (r as string[]).join('\n') } };
    default:
      return { ret: r as number, out: null, side: null };
  }
}
