/**
 * Every program, by id `<area>/<name>`: each module under programs/ is an
 * area, and each function it exports is a program `(r, env) => void |
 * Promise<void>`. Helpers live in lib.ts, which is not an area.
 */
import type { Recorder } from '../recorder.js';
import type { Env } from '../env.js';
import * as dmaBuf from './dma-buf.js';
import * as heap from './heap.js';
import * as udmabuf from './udmabuf.js';
import * as vgem from './vgem.js';
import * as fences from './fences.js';
import * as swSync from './sw-sync.js';
import * as fd from './fd.js';
import * as text from './text.js';
import * as fuzz from './fuzz.js';

export type Program = (r: Recorder, env: Env) => void | Promise<void>;

export interface ProgramEntry {
  id: string;
  fn: Program;
}

const AREAS: [string, Record<string, unknown>][] = [
  ['dma-buf', dmaBuf],
  ['heap', heap],
  ['udmabuf', udmabuf],
  ['vgem', vgem],
  ['fences', fences],
  ['sw-sync', swSync],
  ['fd', fd],
  ['text', text],
  ['fuzz', fuzz],
];

export const PROGRAMS: readonly ProgramEntry[] = AREAS.flatMap(([area, mod]) =>
  Object.entries(mod)
    .filter((e): e is [string, Program] => typeof e[1] === 'function')
    .map(([name, fn]) => ({ id: `${area}/${name}`, fn })),
);
