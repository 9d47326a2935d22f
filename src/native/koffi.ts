/**
 * koffi, loaded on first use only: it is an optional dependency, and only
 * the native backend needs it. Failing to load it is a
 * NativeUnavailableError saying why.
 */
import { createRequire } from 'node:module';
import { NativeUnavailableError } from './errors.js';

/** The part of koffi's API the backend uses (typed here so that the build does not need koffi installed). */
export interface KoffiFunction {
  (...args: unknown[]): unknown;
}
export interface KoffiLibrary {
  func(definition: string): KoffiFunction;
  symbol(name: string): unknown;
}
export interface Koffi {
  load(path: string): KoffiLibrary;
  view(pointer: bigint, length: number): ArrayBuffer;
  address(value: unknown): bigint;
  errno(): number;
  version: string;
}

let loaded: Koffi | undefined;

/** Check the host can run the native backend at all; throws NativeUnavailableError. */
export function checkPlatform(): void {
  if (process.platform !== 'linux') {
    throw new NativeUnavailableError('ERR_NATIVE_PLATFORM', `the native backend makes Linux syscalls; this host is ${process.platform}`);
  }
  if (process.arch !== 'x64') {
    throw new NativeUnavailableError('ERR_NATIVE_PLATFORM', `the native backend encodes x86-64 struct layouts; this host is ${process.arch}`);
  }
}

/** koffi, loaded once per thread. */
export function koffi(): Koffi {
  if (loaded) return loaded;
  checkPlatform();
  try {
    const require = createRequire(import.meta.url);
    const mod = require('koffi') as Koffi & { default?: Koffi };
    loaded = mod.default ?? mod;
  } catch (e) {
    throw new NativeUnavailableError(
      'ERR_NATIVE_NO_KOFFI',
      `the native backend needs the optional dependency koffi (npm install koffi): ${(e as Error).message}`,
      { cause: e },
    );
  }
  return loaded;
}
