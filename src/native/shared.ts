/**
 * The native machine's shared state: one SharedArrayBuffer that every
 * thread of the machine sees. Threads of one OS process share its fd table
 * and address space, so what a process owns (fds, mappings, fds in flight,
 * waits registered with the waiter) is written here, where the machine can
 * release it when the process's thread dies without calling exit().
 *
 * Every entry is claimed and released with compare-and-exchange, and a
 * release is marked before the real close/munmap and cleared after it: an
 * fd or address that the kernel hands out again at once is never taken for
 * the old one. A thread that dies between the mark and the call leaks that
 * one fd or mapping rather than closing a stranger's.
 */

/** header words */
export const H_NEXT_PID = 0;
export const H_MASTER_EPFD = 1;
export const H_WAKE_EVENTFD = 2;
/** waits registered with the waiter's epoll instance now */
export const H_REGISTERED = 3;
export const H_DOWN = 4;
export const H_INTR_SIG = 5;
export const H_TGID = 6;
export const H_FD_CAP = 7;
export const H_MACHINE_ID = 8;
export const H_WAITER_TID = 9;
const HEADER_WORDS = 16;

export const MAX_PROCS = 1024;
const PROC_WORDS = 8;
/** process entry words */
export const P_PID = 0;
export const P_STATE = 1;
export const P_TID = 2;
/** while the process's thread is in a call that may block, that call's number (nonzero): the interrupt signal is aimed at it then */
export const P_BLOCKED = 3;
/** the signal that ended the process, or the one that interrupted its blocked call */
export const P_SIG = 4;
/** bumped on every signal delivery, so an interrupted call can tell a signal from a spurious EINTR */
export const P_SIGSEQ = 5;
/** the signals the process has a handler for, one bit each (1 << sig) */
export const P_HANDLED = 6;
/** signals with a handler delivered and not yet handled, one bit each: the process's thread runs the handlers and clears them */
export const P_SIGPENDING = 7;

export const PROC_FREE = 0;
export const PROC_ALIVE = 1;
/** killed: the process's resources are being (or were) released; it runs its own exit at its next call */
export const PROC_KILLED = 2;
export const PROC_EXITED = 3;

/** An fd table entry is the owner's pid; this bit marks a close in progress. */
export const FD_CLOSING = 1 << 30;
/** An fd in flight (sent, not yet received) is owned by its token: -(index + 1). */

export const MAX_MAPS = 16384;
export const MAP_FREE = 0;
/** claimed, address not yet written */
export const MAP_RESERVED = 1;
export const MAP_LIVE = 2;
/** an unmap (or a kill's neutralisation) is in progress */
export const MAP_BUSY = 3;
/** a killed process's mapping, replaced by anonymous zero pages: the file is released; the owner unmaps the placeholder */
export const MAP_INERT = 4;

export const MAX_TOKENS = 4096;
const TOKEN_WORDS = 6;
export const T_STATE = 0;
export const T_FROM = 1;
export const T_TO = 2;
export const T_FD = 3;
export const T_NONCE = 4;
export const TOKEN_FREE = 0;
export const TOKEN_RESERVED = 1;
export const TOKEN_PENDING = 2;
export const TOKEN_TAKEN = 3;

export const MAX_CALLS = 4096;
/** epoll data of the machine's wake-up eventfd in the master epoll instance (a call's data is generation << 32 | slot) */
export const WAKE_DATA = 0xffffffffffffffffn;
const CALL_WORDS = 4;
export const C_STATE = 0;
export const C_GEN = 1;
export const C_PID = 2;
export const C_EPFD = 3;
export const CALL_FREE = 0;
/** claimed by a caller, not registered */
export const CALL_RESERVED = 1;
/** registered with the waiter, waiting */
export const CALL_ARMED = 2;
/** the waiter saw it ready */
export const CALL_FIRED = 3;
/** the caller gave up (abort) */
export const CALL_CANCELLED = 4;

function layout(fdCap: number) {
  let o = 0;
  const take = (bytes: number): number => {
    const at = o;
    o += Math.ceil(bytes / 8) * 8;
    return at;
  };
  return {
    header: take(HEADER_WORDS * 4),
    procs: take(MAX_PROCS * PROC_WORDS * 4),
    fds: take(fdCap * 4),
    mapWords: take(MAX_MAPS * 2 * 4),
    mapNums: take(MAX_MAPS * 2 * 8),
    tokens: take(MAX_TOKENS * TOKEN_WORDS * 4),
    calls: take(MAX_CALLS * CALL_WORDS * 4),
    total: o,
  };
}

export class Shared {
  readonly header: Int32Array;
  readonly procs: Int32Array;
  readonly fds: Int32Array;
  /** per mapping: state, owner pid */
  readonly mapWords: Int32Array;
  /** per mapping: address, length (user addresses fit a double exactly) */
  readonly mapNums: Float64Array;
  readonly tokens: Int32Array;
  readonly calls: Int32Array;
  readonly fdCap: number;

  constructor(readonly sab: SharedArrayBuffer) {
    const cap = new Int32Array(sab, 0, HEADER_WORDS)[H_FD_CAP];
    const l = layout(cap);
    this.fdCap = cap;
    this.header = new Int32Array(sab, l.header, HEADER_WORDS);
    this.procs = new Int32Array(sab, l.procs, MAX_PROCS * PROC_WORDS);
    this.fds = new Int32Array(sab, l.fds, cap);
    this.mapWords = new Int32Array(sab, l.mapWords, MAX_MAPS * 2);
    this.mapNums = new Float64Array(sab, l.mapNums, MAX_MAPS * 2);
    this.tokens = new Int32Array(sab, l.tokens, MAX_TOKENS * TOKEN_WORDS);
    this.calls = new Int32Array(sab, l.calls, MAX_CALLS * CALL_WORDS);
  }

  static create(fdCap: number): Shared {
    const sab = new SharedArrayBuffer(layout(fdCap).total);
    const header = new Int32Array(sab, 0, HEADER_WORDS);
    header[H_FD_CAP] = fdCap;
    header[H_NEXT_PID] = 1;
    header[H_MACHINE_ID] = (Math.random() * 0x7fffffff) | 0;
    header[H_MASTER_EPFD] = -1;
    header[H_WAKE_EVENTFD] = -1;
    return new Shared(sab);
  }

  // ---- processes ----

  /** A new process entry: its index, with a fresh pid. */
  newProcess(): { index: number; pid: number } {
    const pid = Atomics.add(this.header, H_NEXT_PID, 1);
    for (let i = 0; i < MAX_PROCS; i++) {
      const b = i * PROC_WORDS;
      if (Atomics.compareExchange(this.procs, b + P_STATE, PROC_FREE, PROC_ALIVE) === PROC_FREE) {
        Atomics.store(this.procs, b + P_PID, pid);
        Atomics.store(this.procs, b + P_TID, 0);
        Atomics.store(this.procs, b + P_BLOCKED, 0);
        Atomics.store(this.procs, b + P_SIG, 0);
        return { index: i, pid };
      }
    }
    throw new Error(`native machine: more than ${MAX_PROCS} live processes`);
  }

  /** The entry index of live (or killed, not yet reaped) process `pid`, or -1. */
  procIndex(pid: number): number {
    if (pid <= 0) return -1;
    for (let i = 0; i < MAX_PROCS; i++) {
      const b = i * PROC_WORDS;
      if (Atomics.load(this.procs, b + P_PID) === pid && Atomics.load(this.procs, b + P_STATE) !== PROC_FREE) return i;
    }
    return -1;
  }

  procWord(index: number, word: number): number {
    return Atomics.load(this.procs, index * PROC_WORDS + word);
  }

  setProcWord(index: number, word: number, value: number): void {
    Atomics.store(this.procs, index * PROC_WORDS + word, value);
  }

  casProcWord(index: number, word: number, expect: number, value: number): boolean {
    return Atomics.compareExchange(this.procs, index * PROC_WORDS + word, expect, value) === expect;
  }

  /** Notify waiters on a process word (its state: the owner listens for a kill). */
  notifyProc(index: number, word: number): void {
    Atomics.notify(this.procs, index * PROC_WORDS + word);
  }

  /** Byte offset of a process word in the SharedArrayBuffer's procs view (for Atomics.waitAsync). */
  procWordIndex(index: number, word: number): number {
    return index * PROC_WORDS + word;
  }

  freeProcess(index: number): void {
    Atomics.store(this.procs, index * PROC_WORDS + P_PID, 0);
    Atomics.store(this.procs, index * PROC_WORDS + P_STATE, PROC_FREE);
  }

  liveProcesses(): number {
    let n = 0;
    for (let i = 0; i < MAX_PROCS; i++) if (Atomics.load(this.procs, i * PROC_WORDS + P_STATE) !== PROC_FREE) n++;
    return n;
  }

  // ---- fds ----

  /** Record `fd` as owned by `owner` (a pid, or -(token index + 1) while in flight). False if out of the table's range. */
  claimFd(fd: number, owner: number): boolean {
    if (fd < 0 || fd >= this.fdCap) return false;
    Atomics.store(this.fds, fd, owner);
    return true;
  }

  fdOwner(fd: number): number {
    return fd >= 0 && fd < this.fdCap ? Atomics.load(this.fds, fd) : 0;
  }

  /** Take `fd` from `owner` for closing: false if it is not (or no longer) theirs. */
  beginClose(fd: number, owner: number): boolean {
    if (fd < 0 || fd >= this.fdCap) return false;
    return Atomics.compareExchange(this.fds, fd, owner, owner | FD_CLOSING) === owner;
  }

  /** After the real close: clear the entry unless the kernel already gave the number to someone else. */
  endClose(fd: number, owner: number): void {
    Atomics.compareExchange(this.fds, fd, owner | FD_CLOSING, 0);
  }

  /** Hand `fd` from one owner to another (in flight to received). */
  moveFd(fd: number, from: number, to: number): boolean {
    return Atomics.compareExchange(this.fds, fd, from, to) === from;
  }

  /** The fds `owner` holds. */
  fdsOf(owner: number): number[] {
    const out: number[] = [];
    for (let fd = 0; fd < this.fdCap; fd++) if (this.fds[fd] === owner) out.push(fd);
    return out;
  }

  // ---- mappings ----

  /** Claim a mapping entry for `pid` (before the mmap). */
  reserveMap(pid: number, hint: number): number {
    for (let n = 0; n < MAX_MAPS; n++) {
      const i = (hint + n) % MAX_MAPS;
      if (Atomics.compareExchange(this.mapWords, i * 2, MAP_FREE, MAP_RESERVED) === MAP_FREE) {
        Atomics.store(this.mapWords, i * 2 + 1, pid);
        return i;
      }
    }
    return -1;
  }

  publishMap(i: number, addr: bigint, length: number): void {
    this.mapNums[i * 2] = Number(addr);
    this.mapNums[i * 2 + 1] = length;
    Atomics.store(this.mapWords, i * 2, MAP_LIVE);
  }

  mapState(i: number): number {
    return Atomics.load(this.mapWords, i * 2);
  }

  mapOwner(i: number): number {
    return Atomics.load(this.mapWords, i * 2 + 1);
  }

  mapAddr(i: number): bigint {
    return BigInt(this.mapNums[i * 2]);
  }

  mapLength(i: number): number {
    return this.mapNums[i * 2 + 1];
  }

  casMap(i: number, expect: number, value: number): boolean {
    return Atomics.compareExchange(this.mapWords, i * 2, expect, value) === expect;
  }

  setMapState(i: number, value: number): void {
    Atomics.store(this.mapWords, i * 2, value);
  }

  freeMap(i: number): void {
    this.mapNums[i * 2] = 0;
    this.mapNums[i * 2 + 1] = 0;
    Atomics.store(this.mapWords, i * 2 + 1, 0);
    Atomics.store(this.mapWords, i * 2, MAP_FREE);
  }

  /** Mapping entries of `pid` (any state but free). */
  mapsOf(pid: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < MAX_MAPS; i++) if (this.mapWords[i * 2] !== MAP_FREE && this.mapWords[i * 2 + 1] === pid) out.push(i);
    return out;
  }

  // ---- fds in flight ----

  reserveToken(): number {
    for (let i = 0; i < MAX_TOKENS; i++) {
      if (Atomics.compareExchange(this.tokens, i * TOKEN_WORDS + T_STATE, TOKEN_FREE, TOKEN_RESERVED) === TOKEN_FREE) return i;
    }
    return -1;
  }

  tokenWord(i: number, word: number): number {
    return Atomics.load(this.tokens, i * TOKEN_WORDS + word);
  }

  setTokenWord(i: number, word: number, value: number): void {
    Atomics.store(this.tokens, i * TOKEN_WORDS + word, value);
  }

  casToken(i: number, expect: number, value: number): boolean {
    return Atomics.compareExchange(this.tokens, i * TOKEN_WORDS + T_STATE, expect, value) === expect;
  }

  pendingTokens(): number[] {
    const out: number[] = [];
    for (let i = 0; i < MAX_TOKENS; i++) if (Atomics.load(this.tokens, i * TOKEN_WORDS + T_STATE) === TOKEN_PENDING) out.push(i);
    return out;
  }

  // ---- waits registered with the waiter ----

  reserveCall(pid: number, hint: number): number {
    for (let n = 0; n < MAX_CALLS; n++) {
      const i = (hint + n) % MAX_CALLS;
      const b = i * CALL_WORDS;
      if (Atomics.compareExchange(this.calls, b + C_STATE, CALL_FREE, CALL_RESERVED) === CALL_FREE) {
        Atomics.store(this.calls, b + C_PID, pid);
        Atomics.store(this.calls, b + C_EPFD, -1);
        return i;
      }
    }
    return -1;
  }

  callWordIndex(i: number, word: number): number {
    return i * CALL_WORDS + word;
  }

  freeCall(i: number): void {
    const b = i * CALL_WORDS;
    Atomics.store(this.calls, b + C_PID, 0);
    Atomics.store(this.calls, b + C_EPFD, -1);
    Atomics.store(this.calls, b + C_STATE, CALL_FREE);
  }

  callsOf(pid: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < MAX_CALLS; i++) {
      const b = i * CALL_WORDS;
      if (this.calls[b + C_STATE] !== CALL_FREE && this.calls[b + C_PID] === pid) out.push(i);
    }
    return out;
  }
}
