/**
 * The other OS process of the fd-passing benchmark (native-kernel.bench.ts):
 * it receives fds over the unix socket it inherited as fd 3, and sends each
 * one straight back, until the socket closes.
 */
import { bootNative } from '../src/native/machine.js';
import { O_CLOEXEC } from '../src/uapi/fcntl.js';

const machine = await bootNative();
const proc = machine.spawn('fd-echo');
const socket = proc.adoptFd(3);
for (;;) {
  let fd: number;
  try {
    fd = proc.receiveFdFrom(socket, O_CLOEXEC);
  } catch {
    break; // EPIPE: the benchmark is done
  }
  proc.sendFdTo(socket, fd);
  proc.close(fd);
}
proc.exit();
await machine.shutdown();
