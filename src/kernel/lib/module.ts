/**
 * struct module, the part that keeps code loaded while it is in use
 * (kernel/module/main.c): a reference count that try_module_get() raises
 * unless the module is going away, and module_put() lowers. Open device
 * files, debugfs/sysfs files and dma-bufs of an owner hold a reference, so
 * delete_module() (try_stop_module) refuses with -EWOULDBLOCK while any is
 * alive. Built-in code has no module (THIS_MODULE is NULL): owner null.
 */
import { WARN } from './bug.js';
import { EWOULDBLOCK } from './errno.js';

/** What an owner reference needs (struct module as try_module_get/module_put see it). */
export interface ModuleRef {
  readonly name: string;
  /** try_module_get(): false while the module is going away */
  tryGet(): boolean;
  /** module_put() */
  put(): void;
}

/** enum module_state */
export const MODULE_STATE_LIVE = 0;
export const MODULE_STATE_COMING = 1;
export const MODULE_STATE_GOING = 2;
export const MODULE_STATE_UNFORMED = 3;

/** struct module (name, state, reference count) */
export class Module implements ModuleRef {
  state = MODULE_STATE_COMING;
  private refs = 0;
  constructor(readonly name: string) {}

  /** module_refcount(): references held by open files, dma-bufs and other users */
  get refcount(): number {
    return this.refs;
  }

  /** try_module_get(): a reference, unless the module is going away */
  tryGet(): boolean {
    if (this.state === MODULE_STATE_GOING) return false;
    this.refs++;
    return true;
  }

  /** __module_get(): a reference for a caller that already holds one */
  get(): void {
    this.refs++;
  }

  /** module_put() */
  put(): void {
    if (WARN(this.refs <= 0, `module_put(${this.name}) without a reference`)) return;
    this.refs--;
  }
}

/** try_module_get(mod): true for built-in code (no module). */
export function tryModuleGet(mod: ModuleRef | null | undefined): boolean {
  return !mod || mod.tryGet();
}

/** module_put(mod): nothing for built-in code. */
export function modulePut(mod: ModuleRef | null | undefined): void {
  mod?.put();
}

/**
 * try_stop_module() without force: -EWOULDBLOCK while a reference is held
 * (an open file, a live dma-buf), else the module is marked going (no new
 * references) and its exit may unregister what it registered.
 */
export function tryStopModule(mod: Module): number {
  if (mod.refcount !== 0) return -EWOULDBLOCK;
  mod.state = MODULE_STATE_GOING;
  return 0;
}
