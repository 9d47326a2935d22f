/**
 * The worker-start figure: a module worker that imports the package,
 * attaches to its machine's process and makes a syscall, then says so.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attach } from '../src/index.js';

const proc = attach(workerData.handle);
proc.fcntl(0, 1); // F_GETFD: the first syscall
parentPort!.postMessage(Number(process.hrtime.bigint()));
proc.exit();
