/**
 * The kernel side of the syscall table: each entry's handler, given the
 * calling thread and the arguments as the table unpacks them. The compiler
 * checks that every syscall of the table has one, with the table's types.
 */
import type { Task } from '../kernel/fs/task.js';
import {
  sysClose, sysDup, sysFcntl, sysFstat, sysFtruncate, sysIoctl, sysLseek, sysMemfdCreate, sysMmap, sysMunmap, sysOpen, sysPoll, sysPrlimit,
  sysRead, sysReadFile, sysReaddir, sysReadlink, sysReceiveFd, sysSendFd, sysWrite, vmaId,
} from '../kernel/fs/syscalls.js';
import { sysKill, sysSigaction } from '../kernel/fs/signal.js';
import { sysReceiveFdFrom, sysSendFdTo, sysSocketpair } from '../kernel/fs/unix-socket.js';
import type { KernelHandlers } from './syscalls.js';
import { DATA_SIZE } from './protocol.js';

/** What the kernel thread supplies for the calls that concern the process itself. */
export interface ProcessOps {
  /** exit(): tear the calling process down; resolves once it is gone */
  exit(task: Task): Promise<void>;
}

export function kernelHandlers(ops: ProcessOps): KernelHandlers<Task> {
  return {
    open: (t, path, flags) => sysOpen(t, path, flags),
    close: (t, fd) => sysClose(t, fd),
    dup: (t, fd) => sysDup(t, fd),
    ioctl: (t, fd, cmd, arg) => sysIoctl(t, fd, cmd, arg),
    mmap: async (t, length, prot, flags, fd, offset) => {
      const r = await sysMmap(t, length, prot, flags, fd, offset);
      return typeof r === 'number' ? r : { id: vmaId(r), view: r.view! };
    },
    munmap: (t, id) => sysMunmap(t, id),
    lseek: (t, fd, offset, whence) => sysLseek(t, fd, offset, whence),
    poll: (t, fds, timeout) => sysPoll(t, fds, timeout),
    readFile: (t, path) => sysReadFile(t, path),
    memfdCreate: (t, name, flags) => sysMemfdCreate(t, name, flags),
    ftruncate: (t, fd, length) => sysFtruncate(t, fd, length),
    fcntl: (t, fd, cmd, arg) => sysFcntl(t, fd, cmd, arg),
    // The process carries a longer read in slot-sized pieces.
    read: (t, fd, length) => sysRead(t, fd, Math.min(length, DATA_SIZE)),
    write: (t, fd, bytes) => sysWrite(t, fd, bytes),
    sendFd: (t, fd, toPid) => sysSendFd(t, fd, toPid),
    receiveFd: (t, token, flags) => sysReceiveFd(t, token, flags),
    exit: async (t) => {
      await ops.exit(t);
      return 0;
    },
    readdir: (t, path) => sysReaddir(t, path),
    fstat: (t, fd) => sysFstat(t, fd),
    readlink: (t, path) => sysReadlink(t, path),
    prlimit: (t, pid, resource, cur, max, setNew) => sysPrlimit(t, pid, resource, cur, max, setNew),
    kill: (t, pid, sig) => sysKill(t, pid, sig),
    sigaction: (t, sig, install) => sysSigaction(t, sig, install),
    socketpair: (t) => sysSocketpair(t),
    sendFdTo: (t, socket, fd) => sysSendFdTo(t, socket, fd),
    receiveFdFrom: (t, socket, flags) => sysReceiveFdFrom(t, socket, flags),
  };
}
