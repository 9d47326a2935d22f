/** The worker-start baseline: a module worker that says so at once (what any worker costs). */
import { parentPort } from 'node:worker_threads';

parentPort!.postMessage(Number(process.hrtime.bigint()));
