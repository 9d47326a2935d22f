/**
 * Loadable modules (kernel/module/main.c: init_module, delete_module,
 * /proc/modules): an ES module of the user's, loaded into the kernel
 * thread, whose init registers what it offers — a character device with
 * its file operations, debugfs files, counters — through the same API the
 * built-in drivers use, naming its Module as the owner. A module in use
 * (one of its device files open, a dma-buf it exported alive) cannot be
 * removed: delete_module's -EWOULDBLOCK (EAGAIN). A module whose init fails
 * leaves nothing registered.
 *
 * The module's default export (or its namespace) is a KernelModule:
 *
 *   export default {
 *     name: 'myexp',
 *     init(mod) { return miscRegister({ name: 'myexp', fops, owner: mod }); },
 *     exit() { ... },
 *   };
 */
import { EEXIST, EINVAL, ENOENT, errname } from './lib/errno.js';
import { Module, MODULE_STATE_GOING, MODULE_STATE_LIVE, tryStopModule } from './lib/module.js';
import { pr_err, pr_info } from './lib/printk.js';
import { statsUnregisterOwner } from './lib/stats.js';
import { registryRemoveOwner } from './fs/registry.js';
import { procCreateSingle } from './fs/procfs.js';

/** What a loadable module's file exports. */
export interface KernelModule {
  /** the module's name (MODULE_NAME_LEN 56, with the NUL): what rmmod and /proc/modules name it by */
  name: string;
  /** module_init: register what the module offers, owned by `mod`; 0, a negative errno, or a throw */
  init(mod: Module): number | void | Promise<number | void>;
  /** module_exit: undo what init did beyond its registrations (which are removed for it) */
  exit?(mod: Module): void | Promise<void>;
}

interface Loaded {
  mod: Module;
  def: KernelModule;
  url: string;
}

const loaded = new Map<string, Loaded>();
/** MODULE_NAME_LEN less the NUL */
const MODULE_NAME_MAX = 55;

/** What a failed load reports: the errno, and the error init threw, if any. */
export class ModuleLoadError extends Error {
  constructor(readonly errno: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModuleLoadError';
  }
}

/** Remove everything registered in the module's name. */
function unregisterOwned(mod: Module): void {
  registryRemoveOwner(mod);
  statsUnregisterOwner(mod);
}

/**
 * init_module(): import the ES module at `url`, check what it exports, and
 * run its init. Resolves to the module's name; rejects with a
 * ModuleLoadError: -EINVAL for a file that is not a module (no name or no
 * init), -EEXIST for a name in use, or init's error (its registrations are
 * removed first).
 */
export async function loadModule(url: string): Promise<string> {
  let ns: Record<string, unknown>;
  try {
    ns = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    throw new ModuleLoadError(-ENOENT, `insmod ${url}: cannot import it: ${(e as Error).message}`, { cause: e });
  }
  const def = ((ns.default as KernelModule | undefined) ?? ns) as KernelModule;
  if (typeof def?.name !== 'string' || !def.name || typeof def.init !== 'function') {
    throw new ModuleLoadError(-EINVAL, `insmod ${url}: not a kernel module (export { name, init, exit? } as its default)`);
  }
  if (def.name.length > MODULE_NAME_MAX || /[\s/]/.test(def.name)) throw new ModuleLoadError(-EINVAL, `insmod ${url}: bad module name '${def.name}'`);
  if (loaded.has(def.name)) throw new ModuleLoadError(-EEXIST, `insmod ${url}: module ${def.name} is already loaded`);
  const mod = new Module(def.name);
  loaded.set(def.name, { mod, def, url });
  let ret: number | void;
  try {
    ret = await def.init(mod);
  } catch (e) {
    loaded.delete(def.name);
    mod.state = MODULE_STATE_GOING;
    unregisterOwned(mod);
    pr_err(`${def.name}: init failed: ${(e as Error).message ?? e}`);
    const errno = typeof (e as { errno?: unknown }).errno === 'number' ? -Math.abs((e as { errno: number }).errno) : -EINVAL;
    throw new ModuleLoadError(errno, `insmod ${def.name}: init threw: ${(e as Error).message ?? e}`, { cause: e });
  }
  if (typeof ret === 'number' && ret < 0) {
    loaded.delete(def.name);
    mod.state = MODULE_STATE_GOING;
    unregisterOwned(mod);
    pr_err(`${def.name}: init failed: ${errname(ret) ?? ret}`);
    throw new ModuleLoadError(ret, `insmod ${def.name}: init returned ${errname(ret) ?? ret}`);
  }
  mod.state = MODULE_STATE_LIVE;
  pr_info(`${def.name}: loaded`);
  return def.name;
}

/**
 * delete_module(name, O_NONBLOCK): 0, -ENOENT for no such module, or
 * -EWOULDBLOCK (EAGAIN) while it is in use. Then its exit runs and what it
 * registered goes.
 */
export async function unloadModule(name: string): Promise<number> {
  const l = loaded.get(name);
  if (!l) return -ENOENT;
  const ret = tryStopModule(l.mod);
  if (ret) return ret;
  try {
    await l.def.exit?.(l.mod);
  } finally {
    unregisterOwned(l.mod);
    loaded.delete(name);
  }
  pr_info(`${name}: unloaded`);
  return 0;
}

/** The loaded modules, by name. */
export function loadedModules(): { name: string; refcount: number; state: number }[] {
  return [...loaded.values()].map((l) => ({ name: l.mod.name, refcount: l.mod.refcount, state: l.mod.state }));
}

/**
 * /proc/modules (m_show): "name size refcount deps state address" per
 * line. A JavaScript module has no size or load address: both print as 0.
 */
function procModulesShow(): string {
  const state = (s: number): string => (s === MODULE_STATE_LIVE ? 'Live' : s === MODULE_STATE_GOING ? 'Unloading' : 'Loading');
  return [...loaded.values()].map((l) => `${l.mod.name} 0 ${l.mod.refcount} - ${state(l.mod.state)} 0x0000000000000000\n`).join('');
}

/** proc_modules_init(): /proc/modules. */
export function procModulesInit(): number {
  procCreateSingle('modules', 0o444, null, () => procModulesShow());
  return 0;
}

/** Whether a name is a loaded module (for the machine's messages). */
export function moduleLoaded(name: string): boolean {
  return loaded.has(name);
}

