/**
 * The native backend: the process interface of src/machine made on the
 * host's real Linux kernel (koffi FFI). See docs/native-backend.md.
 */
export { bootNative, attachNative, NativeMachine, type NativeBootOptions, type NativeMachineStats, type NativeLeaks } from './machine.js';
export { NativeProcess, type NativeProcessHandle, type NativeAttachOptions, type WaitOptions } from './process.js';
export { NativeSyscallError, NativeUnavailableError, NativeUnsupportedError, type NativeUnavailableCode } from './errors.js';
export { declareIoctl, type IoctlShape } from './ioctl-shapes.js';
export { callRelocated } from './relocate.js';
