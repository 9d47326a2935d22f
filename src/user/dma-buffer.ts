/**
 * A dma-buf as an object: its size and name, one shared mapping, CPU
 * access guards that bracket reads and writes with DMA_BUF_IOCTL_SYNC
 * (start when acquired, end when disposed: `using w = buf.access('write')`),
 * implicit-sync waits (poll), sync-file export and import, and passing to
 * another worker as a plain descriptor.
 */
import type { ProcessLike as Process } from '../machine/process-api.js';
import { F_GETFL, O_ACCMODE, O_CLOEXEC, O_RDONLY, O_WRONLY, SEEK_END, SEEK_SET } from '../uapi/fcntl.js';
import { MAP_SHARED, PROT_READ, PROT_WRITE } from '../uapi/mman.js';
import { POLLIN, POLLOUT } from '../uapi/poll.js';
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, DMA_BUF_IOCTL_SYNC, DMA_BUF_SET_NAME_B,
  DMA_BUF_SYNC_END, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_START, DMA_BUF_SYNC_WRITE, dma_buf_export_sync_file, dma_buf_import_sync_file, dma_buf_sync,
} from '../uapi/dma-buf.js';
import { FdResource } from './resource.js';
import { SyncFile } from './sync-file.js';
import { pollReady, pollReadySync, type WaitOptions } from './wait.js';

/** How the CPU (or a fence) uses the buffer. */
export type Access = 'read' | 'write' | 'readwrite';

const SYNC_FLAGS: Record<Access, number> = { read: DMA_BUF_SYNC_READ, write: DMA_BUF_SYNC_WRITE, readwrite: DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE };

function syncFlags(access: Access): number {
  const f = SYNC_FLAGS[access];
  if (f === undefined) throw new TypeError(`access must be 'read', 'write' or 'readwrite', not ${String(access)}`);
  return f;
}

/** What crosses postMessage for a buffer (see DmaBuffer.receive()). */
export interface DmaBufferDescriptor {
  kind: 'dma-buf';
  token: string;
  size: number;
  name: string;
}

/**
 * CPU access to a buffer, bracketed: DMA_BUF_SYNC_START when made (which
 * waits for the fences that access conflicts with), DMA_BUF_SYNC_END when
 * disposed. `bytes` is the zero-copy mapping. Made by
 * {@link DmaBuffer.access} and {@link DmaBuffer.accessAsync}.
 *
 * @example
 * ```ts
 * {
 *   using w = frame.access('write');   // SYNC_START|WRITE: waits for readers and writers
 *   w.words().fill(0xff0000ff);        // opaque red RGBA pixels, in place
 * }                                    // SYNC_END|WRITE
 * ```
 */
export class CpuAccess implements Disposable {
  private open = true;
  /** @internal */
  constructor(private readonly buf: DmaBuffer, readonly access: Access, readonly bytes: Uint8Array) {}

  /** The mapping as 32-bit words (RGBA pixels, say): the same memory. */
  words(): Uint32Array {
    return new Uint32Array(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength >> 2);
  }

  /** End the access (DMA_BUF_SYNC_END); idempotent. */
  end(): void {
    if (!this.open) return;
    this.open = false;
    if (!this.buf.closed && !this.buf.proc.exited) this.buf.proc.ioctl(this.buf.fd, DMA_BUF_IOCTL_SYNC, dma_buf_sync.encode({ flags: DMA_BUF_SYNC_END | syncFlags(this.access) }));
  }

  /** end(), for `using` declarations. */
  [Symbol.dispose](): void {
    this.end();
  }
}

/**
 * A dma-buf held by this process: its size and name, one shared mapping
 * (`bytes`), CPU access bracketed by DMA_BUF_IOCTL_SYNC, implicit-sync waits
 * through poll(), sync-file export and import, and passing to another
 * process (`share`/`receive` between workers of one machine, `sendTo`/
 * `receiveFrom` over an AF_UNIX socket). Made by {@link DmaHeap.allocate} or
 * {@link DmaBuffer.fromFd}.
 *
 * @example
 * ```ts
 * using frame = DmaHeap.open(proc).allocate(4096, { name: 'frame-0' });
 * {
 *   using w = frame.access('write');
 *   w.bytes.set(new TextEncoder().encode('hello'));
 * }
 * // another worker: wait for the writers' fences, then read zero-copy
 * await frame.wait('read', { timeout: 1000 });
 * using r = frame.access('read');
 * console.log(new TextDecoder().decode(r.bytes.subarray(0, 5)));   // hello
 * ```
 */
export class DmaBuffer extends FdResource {
  private view: Uint8Array | null = null;
  private nameCache: string;

  /** @internal */
  constructor(proc: Process, fd: number, readonly size: number, name: string) {
    super(proc, fd, DmaBuffer.what(name, size));
    this.nameCache = name;
  }

  private static what(name: string, size: number): string {
    return `dma-buf '${name}' of ${size} bytes`;
  }

  /** Own a dma-buf fd made elsewhere (its size is read with lseek, as libdrm users do). */
  static fromFd(proc: Process, fd: number, name = ''): DmaBuffer {
    const size = proc.lseek(fd, 0, SEEK_END);
    proc.lseek(fd, 0, SEEK_SET);
    return new DmaBuffer(proc, fd, size, name);
  }

  /** The name set with setName() (DMA_BUF_SET_NAME), as known to this process. */
  get name(): string {
    return this.nameCache;
  }

  /** DMA_BUF_SET_NAME: the name bufinfo and fdinfo show (at most 31 bytes; the kernel gives -EINVAL beyond). */
  setName(name: string): void {
    this.proc.ioctl(this.fd, DMA_BUF_SET_NAME_B, new TextEncoder().encode(`${name}\0`));
    this.nameCache = name;
    this.describeAs(DmaBuffer.what(name, this.size));
  }

  /** The shared mapping (made on first use, with the protections the fd's access mode allows). */
  get bytes(): Uint8Array {
    if (!this.view) {
      const mode = this.proc.fcntl(this.fd, F_GETFL) & O_ACCMODE;
      const prot = mode === O_RDONLY ? PROT_READ : mode === O_WRONLY ? PROT_WRITE : PROT_READ | PROT_WRITE;
      this.view = this.proc.mmap(this.size, prot, MAP_SHARED, this.fd, 0);
    }
    return this.view;
  }

  /** Begin CPU access (DMA_BUF_SYNC_START, blocking until conflicting fences signal); dispose to end it. */
  access(access: Access): CpuAccess {
    const bytes = this.bytes;
    this.proc.ioctl(this.fd, DMA_BUF_IOCTL_SYNC, dma_buf_sync.encode({ flags: DMA_BUF_SYNC_START | syncFlags(access) }));
    return new CpuAccess(this, access, bytes);
  }

  /** access() for event-loop code: waits for the fences first (timeout, AbortSignal), then starts. */
  async accessAsync(access: Access, opts: WaitOptions = {}): Promise<CpuAccess> {
    await this.wait(access, opts);
    const bytes = this.bytes;
    await this.proc.ioctlAsync(this.fd, DMA_BUF_IOCTL_SYNC, dma_buf_sync.encode({ flags: DMA_BUF_SYNC_START | syncFlags(access) }));
    return new CpuAccess(this, access, bytes);
  }

  /**
   * Implicit sync: wait until `access` would not race the fences in the
   * buffer's reservation object — reading waits for writers (POLLIN),
   * writing waits for everyone (POLLOUT).
   */
  wait(access: Access, opts: WaitOptions = {}): Promise<void> {
    return pollReady(this.proc, this.fd, access === 'read' ? POLLIN : POLLOUT, `dma-buf '${this.name}'`, opts);
  }

  /** The blocking form of wait(). */
  waitSync(access: Access, timeoutMs = Infinity): void {
    pollReadySync(this.proc, this.fd, access === 'read' ? POLLIN : POLLOUT, `dma-buf '${this.name}'`, timeoutMs);
  }

  /** DMA_BUF_IOCTL_EXPORT_SYNC_FILE: the fences `access` would wait for, as a sync file. */
  exportSyncFile(access: Access): SyncFile {
    const b = dma_buf_export_sync_file.encode({ flags: syncFlags(access), fd: -1 });
    this.proc.ioctl(this.fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, b);
    return SyncFile.fromFd(this.proc, dma_buf_export_sync_file.get(b, 'fd'));
  }

  /** DMA_BUF_IOCTL_IMPORT_SYNC_FILE: add the sync file's fences as readers ('read') or a writer ('write'). */
  importSyncFile(syncFile: SyncFile, access: Access): void {
    this.proc.ioctl(this.fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, dma_buf_import_sync_file.encode({ flags: syncFlags(access), fd: syncFile.fd }));
  }

  /** Send to process `toPid` (SCM_RIGHTS semantics): a plain object to postMessage; this one stays open. */
  share(toPid: number): DmaBufferDescriptor {
    return { kind: 'dma-buf', token: this.proc.sendFd(this.fd, toPid), size: this.size, name: this.name };
  }

  /** The other side of share(): the buffer, with a descriptor in this process. */
  static receive(proc: Process, d: DmaBufferDescriptor): DmaBuffer {
    if (d?.kind !== 'dma-buf') throw new TypeError('not a dma-buf descriptor (from DmaBuffer.share())');
    return new DmaBuffer(proc, proc.receiveFd(d.token), d.size, d.name);
  }

  /**
   * Send over an AF_UNIX socket (`proc.socketpair()`; on the native backend
   * one end may belong to another OS process): SCM_RIGHTS, so the receiver
   * gets a descriptor of its own. This one stays open.
   */
  sendTo(socket: number): void {
    this.proc.sendFdTo(socket, this.fd);
  }

  /** The other side of sendTo(): waits for the buffer on `socket` (EPIPE once the other end closed). */
  static receiveFrom(proc: Process, socket: number): DmaBuffer {
    return DmaBuffer.fromFd(proc, proc.receiveFdFrom(socket, O_CLOEXEC));
  }

  /** receiveFrom() for event-loop code; `{ signal }` aborts the wait. */
  static async receiveFromAsync(proc: Process, socket: number, opts: { signal?: AbortSignal } = {}): Promise<DmaBuffer> {
    return DmaBuffer.fromFd(proc, await proc.receiveFdFromAsync(socket, O_CLOEXEC, opts));
  }

  protected override beforeClose(): void {
    if (this.view) {
      const v = this.view;
      this.view = null;
      if (!this.proc.exited) this.proc.munmap(v);
    }
  }
}
