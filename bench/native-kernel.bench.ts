/**
 * The native backend on a kernel with dma-bufs (run in the VM test bed:
 * `node scripts/vm/run.mjs --kernel stock -- 'node --expose-gc bench/run.mjs native'`),
 * each figure against a baseline of the same run:
 * - the DMA_BUF_IOCTL_SYNC round trip through the backend against a real
 *   syscall Node makes itself (fs.readSync of 1 byte from /dev/null);
 * - passing a buffer's fd to another OS process and back (SCM_RIGHTS over a
 *   unix socket) at 4 KiB and 256 MiB: the fd, not the memory, travels, so
 *   the cost is flat in size;
 * - mmap + munmap per size and exporter: the system heap remaps every page
 *   at mmap time, udmabuf faults its pages in lazily, so the two grow
 *   differently with size;
 * - the demo's pipeline on the real kernel against the emulator, same frames.
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { compare, opsPerSec, type Row } from './harness.js';
import { bootNative, type NativeMachine } from '../src/native/machine.js';
import type { NativeProcess } from '../src/native/process.js';
import { runPipeline } from '../src/cli/demo-pipeline.js';
import * as u from '../src/uapi/index.js';

export const title = 'native backend on a kernel with dma-bufs (run in the VM)';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const nowUs = (): number => Number(process.hrtime.bigint()) / 1000;

function heapAlloc(proc: NativeProcess, len: number): number {
  const heap = proc.open('/dev/dma_heap/system', u.O_RDWR | u.O_CLOEXEC);
  const arg = u.dma_heap_allocation_data.encode({ len: BigInt(len), fd_flags: u.O_RDWR | u.O_CLOEXEC });
  try {
    proc.ioctl(heap, u.DMA_HEAP_IOCTL_ALLOC, arg);
  } finally {
    proc.close(heap);
  }
  return u.dma_heap_allocation_data.get(arg, 'fd');
}

function udmabuf(proc: NativeProcess, len: number): number {
  const memfd = proc.memfdCreate('bench', u.MFD_ALLOW_SEALING | u.MFD_CLOEXEC);
  proc.ftruncate(memfd, len);
  proc.fcntl(memfd, u.F_ADD_SEALS, u.F_SEAL_SHRINK);
  const dev = proc.open('/dev/udmabuf', u.O_RDWR | u.O_CLOEXEC);
  try {
    return proc.ioctl(dev, u.UDMABUF_CREATE, u.udmabuf_create.encode({ memfd, flags: u.UDMABUF_FLAGS_CLOEXEC, offset: 0n, size: BigInt(len) }));
  } finally {
    proc.close(dev);
    proc.close(memfd);
  }
}

/** µs for one fd round trip to the child process and back, median of `rounds`. */
async function fdRoundTrip(proc: NativeProcess, socket: number, fd: number, rounds: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = nowUs();
    proc.sendFdTo(socket, fd);
    const back = await proc.receiveFdFromAsync(socket, u.O_CLOEXEC);
    times.push(nowUs() - t0);
    proc.close(back);
  }
  return median(times);
}

export async function run(): Promise<Row[]> {
  if (!existsSync('/dev/dma_heap/system')) return [{ name: 'no /dev/dma_heap/system here: run it in the VM test bed', value: 0, unit: '' }];
  let machine: NativeMachine;
  try {
    machine = await bootNative();
  } catch (e) {
    return [{ name: 'native backend unavailable', value: 0, unit: '', note: (e as Error).message }];
  }
  const proc = machine.spawn('bench');
  const rows: Row[] = [];
  try {
    // ---- DMA_BUF_IOCTL_SYNC against readSync ----
    const nul = openSync('/dev/null', 'r');
    const one = Buffer.alloc(1);
    const buf = heapAlloc(proc, 4096);
    const start = u.dma_buf_sync.encode({ flags: BigInt(u.DMA_BUF_SYNC_START | u.DMA_BUF_SYNC_RW) });
    const end = u.dma_buf_sync.encode({ flags: BigInt(u.DMA_BUF_SYNC_END | u.DMA_BUF_SYNC_RW) });
    const [base, ops] = compare(
      () => opsPerSec((n) => { for (let i = 0; i < n; i++) readSync(nul, one, 0, 1, null); }),
      () => opsPerSec((n) => { for (let i = 0; i < n; i++) proc.ioctl(buf, u.DMA_BUF_IOCTL_SYNC, (i & 1) ? end : start); }),
    );
    closeSync(nul);
    const real = 1e6 / base;
    const sync = 1e6 / ops;
    rows.push({ name: 'DMA_BUF_IOCTL_SYNC through the backend', value: sync, unit: 'µs', baseline: { name: 'readSync 1 B /dev/null', value: real }, ratio: sync / real, target: '≤ 1.5x', pass: sync <= 1.5 * real });

    // ---- fd to another OS process and back, 4 KiB and 256 MiB ----
    const [mine, theirs] = proc.socketpair();
    const child = spawn(process.execPath, [fileURLToPath(new URL('./native-fd-echo.js', import.meta.url))], { stdio: ['ignore', 'inherit', 'inherit', theirs] });
    proc.close(theirs);
    const small = heapAlloc(proc, 4096);
    const big = heapAlloc(proc, 256 << 20);
    await fdRoundTrip(proc, mine, small, 20); // warm-up (the child boots its machine)
    let s = Infinity;
    let b = Infinity;
    for (let r = 0; r < 3; r++) {
      s = Math.min(s, await fdRoundTrip(proc, mine, small, 101));
      b = Math.min(b, await fdRoundTrip(proc, mine, big, 101));
    }
    rows.push({ name: 'fd to another OS process and back (SCM_RIGHTS), 256 MiB', value: b, unit: 'µs', baseline: { name: 'the same at 4 KiB', value: s }, ratio: b / s, target: '≤ 1.5x (flat in size)', pass: b <= 1.5 * s });
    proc.close(mine);
    await new Promise((r) => child.once('exit', r));

    // ---- mmap + munmap per size and exporter ----
    // udmabuf refuses more than its size_limit_mb module parameter (64 MiB
    // by default, drivers/dma-buf/udmabuf.c), so both exporters are measured at 64 MiB.
    const large = 64 << 20;
    for (const [name, make] of [['system heap', heapAlloc], ['udmabuf', udmabuf]] as const) {
      const cost: number[] = [];
      for (const len of [4096, large]) {
        const fd = make(proc, len);
        const times: number[] = [];
        for (let i = 0; i < 11; i++) {
          const t0 = nowUs();
          const v = proc.mmap(len, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd);
          proc.munmap(v);
          times.push(nowUs() - t0);
        }
        proc.close(fd);
        cost.push(median(times));
      }
      rows.push({ name: `mmap + munmap, ${name}, 64 MiB`, value: cost[1], unit: 'µs', baseline: { name: 'the same at 4 KiB', value: cost[0] }, ratio: cost[1] / cost[0], note: name === 'system heap' ? 'remaps every page at mmap' : 'pages fault in as touched' });
    }
    proc.close(buf);
    proc.close(small);
    proc.close(big);
  } finally {
    proc.exit();
    await machine.shutdown();
  }

  // ---- the demo's pipeline, real kernel vs emulator ----
  const frames = 60;
  const opts = { frames, width: 640, height: 360, ring: 4, workers: 1 };
  const linux = await runPipeline({ ...opts, backend: 'linux' });
  const emulated = await runPipeline({ ...opts, backend: 'emulator' });
  rows.push({ name: 'demo pipeline 640x360, real kernel', value: frames / linux.seconds, unit: 'frames/s', baseline: { name: 'the emulator', value: frames / emulated.seconds }, ratio: emulated.seconds / linux.seconds, note: 'same frames, same stages' });
  return rows;
}
