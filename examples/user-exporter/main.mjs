// A user-written kernel module in a running machine: load ramexp, let a
// producer allocate from /dev/ramexp and write, hand the buffer to a
// consumer worker that imports it into vgem and reads it, then unload.
//   node examples/user-exporter/main.mjs
import { boot } from 'dmabuf';
import * as u from 'dmabuf/uapi';
import { Worker } from 'node:worker_threads';
import { ramexp_alloc, RAMEXP_IOC_ALLOC } from './ramexp.mjs';

const machine = await boot({ modules: [new URL('./ramexp.mjs', import.meta.url)] });
const producer = machine.spawn('producer');
console.log(producer.readFile('/proc/modules').trim()); // → ramexp 0 0 - Live 0x0000000000000000

// Allocate a buffer from the module's device and fill it through a mapping.
const dev = producer.open('/dev/ramexp', u.O_RDWR | u.O_CLOEXEC);
const arg = ramexp_alloc.encode({ size: 8192n, flags: u.O_RDWR | u.O_CLOEXEC });
producer.ioctl(dev, RAMEXP_IOC_ALLOC, arg);
const buf = ramexp_alloc.decode(arg).fd;
const view = producer.mmap(8192, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, buf);
view.set(new TextEncoder().encode('hello from ramexp\0'));
producer.munmap(view);
console.log(producer.readlink(`/proc/self/fd/${buf}`), producer.fstat(buf).st_size); // → /dmabuf: 8192n

// The consumer worker imports it into vgem and reads it.
const handle = machine.channel('consumer');
const consumer = new Worker(new URL('./consumer.mjs', import.meta.url), { workerData: { handle }, transferList: [handle.port] });
consumer.postMessage({ token: producer.sendFd(buf, handle.pid), length: 8192 });
console.log(await new Promise((resolve, reject) => { consumer.once('message', resolve); consumer.once('error', reject); })); // → hello from ramexp (MODE_MAP_DUMB of the import: EINVAL)

// In use: the device is open and a buffer it exported is alive.
await machine.rmmod('ramexp').catch((e) => console.log(e.code, e.syscall)); // → EAGAIN delete_module
producer.close(dev);
producer.close(buf);
await machine.rmmod('ramexp');
console.log(producer.readdir('/dev').includes('ramexp')); // → false
producer.exit();
await consumer.terminate();
console.log(JSON.stringify(await machine.shutdown())); // every counter 0: nothing leaked
