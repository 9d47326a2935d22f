/**
 * Programs the differential fuzzer found (npm run fuzz -- --differential,
 * test/fuzz/differential): each is a shrunk sequence on which the emulator
 * and Linux once answered differently, kept as a regression program once
 * the emulator was fixed or the difference listed. Each says what differed.
 * The fuzzer prints a new one ready to paste here.
 */
import * as u from '../../../src/uapi/index.js';
import type { Recorder } from '../recorder.js';
import type { Env } from '../env.js';

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const str = (s: string): Uint8Array => new TextEncoder().encode(s);
const setFd = (a: Uint8Array, at: number, fd: number): void => new DataView(a.buffer, a.byteOffset, a.byteLength).setInt32(at, fd, true);
const getFd = (a: Uint8Array, at: number): number => new DataView(a.buffer, a.byteOffset, a.byteLength).getInt32(at, true);
