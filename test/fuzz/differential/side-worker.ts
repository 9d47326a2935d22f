/**
 * The emulator's side of a differential run in a worker thread of its own
 * (sides.ts, emulatorWorkerSide): it boots the emulator here and runs the
 * sequences it is sent, answering each with its recording.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { emulatorSide, type RunOptions } from './sides.js';
import type { Features } from '../../differential/env.js';
import type { DiffOp } from './vocabulary.js';

const data = workerData as { features: Features; recycle?: number };
const side = emulatorSide(data.features, { recycle: data.recycle });

parentPort!.on('message', (m: { id: number; kind: 'run' | 'close'; ops?: DiffOp[]; runOpts?: RunOptions }) => {
  const work = m.kind === 'run' ? side.run(m.ops!, m.runOpts) : side.close();
  work.then(
    (result) => parentPort!.postMessage({ id: m.id, result }),
    (e: Error) => parentPort!.postMessage({ id: m.id, error: e.stack ?? String(e) }),
  );
});
