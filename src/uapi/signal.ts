/**
 * Signal numbers (arch/x86/include/uapi/asm/signal.h) and what each does
 * by default (the table in signal(7)), and the resource limits
 * (include/uapi/asm-generic/resource.h).
 */

/** Hang-up of the controlling terminal, or its process died (x86-64 numbers, arch/x86/include/uapi/asm/signal.h). Default: terminate. */
export const SIGHUP = 1;
/** Interrupt from the keyboard (Ctrl-C). Default: terminate. */
export const SIGINT = 2;
/** Quit from the keyboard. Default: core dump. */
export const SIGQUIT = 3;
/** Illegal instruction. Default: core dump. */
export const SIGILL = 4;
/** Trace or breakpoint trap. Default: core dump. */
export const SIGTRAP = 5;
/** abort(3). Default: core dump. */
export const SIGABRT = 6;
/** Bus error: e.g. touching a mapped page past the end of its object. Default: core dump. */
export const SIGBUS = 7;
/** Arithmetic exception. Default: core dump. */
export const SIGFPE = 8;
/** Kill; cannot be caught, blocked or ignored. Default: terminate. */
export const SIGKILL = 9;
/** User-defined signal 1. Default: terminate. */
export const SIGUSR1 = 10;
/** Invalid memory reference. Default: core dump. */
export const SIGSEGV = 11;
/** User-defined signal 2. Default: terminate. */
export const SIGUSR2 = 12;
/** Write to a pipe or socket with no reader. Default: terminate. */
export const SIGPIPE = 13;
/** Timer from alarm(2). Default: terminate. */
export const SIGALRM = 14;
/** Termination request (kill(1)'s default). Default: terminate. */
export const SIGTERM = 15;
/** Stack fault on a coprocessor (unused by Linux). Default: terminate. */
export const SIGSTKFLT = 16;
/** A child stopped or ended. Default: ignore. */
export const SIGCHLD = 17;
/** Continue if stopped. Default: continue. */
export const SIGCONT = 18;
/** Stop the process; cannot be caught, blocked or ignored. Default: stop. */
export const SIGSTOP = 19;
/** Stop typed at the terminal (Ctrl-Z). Default: stop. */
export const SIGTSTP = 20;
/** Terminal input for a background process. Default: stop. */
export const SIGTTIN = 21;
/** Terminal output for a background process. Default: stop. */
export const SIGTTOU = 22;
/** Urgent data on a socket. Default: ignore. */
export const SIGURG = 23;
/** CPU time limit exceeded. Default: core dump. */
export const SIGXCPU = 24;
/** File size limit exceeded. Default: core dump. */
export const SIGXFSZ = 25;
/** Virtual (user CPU time) alarm clock. Default: terminate. */
export const SIGVTALRM = 26;
/** Profiling timer expired. Default: terminate. */
export const SIGPROF = 27;
/** The terminal window was resized. Default: ignore. */
export const SIGWINCH = 28;
/** I/O now possible (also SIGPOLL). Default: terminate. */
export const SIGIO = 29;
/** Power failure. Default: terminate. */
export const SIGPWR = 30;
/** Bad system call (e.g. a seccomp filter's). Default: core dump. */
export const SIGSYS = 31;
/** _NSIG for the standard signals this machine delivers (1..31) */
export const NSIG_STANDARD = 32;

const NAMES = [
  '', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL', 'SIGUSR1', 'SIGSEGV', 'SIGUSR2',
  'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU',
  'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS',
];

/**
 * A signal's name: 'SIGTERM' for 15; 'SIG<n>' for a number without a name.
 *
 * @example
 * ```ts
 * import { signalName, SIGKILL } from 'dmabuf/uapi';
 * signalName(SIGKILL); // → 'SIGKILL'
 * signalName(40); // → 'SIG40'
 * ```
 */
export function signalName(sig: number): string {
  return NAMES[sig] || `SIG${sig}`;
}

/** What a signal does when the process has no handler for it. */
export type SignalDefault = 'terminate' | 'core' | 'ignore' | 'stop' | 'continue';

/**
 * The default action of a standard signal (signal(7)): what happens to a
 * process that has no handler for it. A number outside 1..31 counts as
 * 'terminate'.
 *
 * @example
 * ```ts
 * import { signalDefault, SIGCHLD, SIGSEGV, SIGTERM } from 'dmabuf/uapi';
 * signalDefault(SIGTERM); // → 'terminate'
 * signalDefault(SIGSEGV); // → 'core'
 * signalDefault(SIGCHLD); // → 'ignore'
 * ```
 */
export function signalDefault(sig: number): SignalDefault {
  switch (sig) {
    case SIGCHLD: case SIGURG: case SIGWINCH: return 'ignore';
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU: return 'stop';
    case SIGCONT: return 'continue';
    case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE: case SIGSEGV: case SIGXCPU: case SIGXFSZ: case SIGSYS: return 'core';
    default: return 'terminate';
  }
}

/** getrlimit(2)/setrlimit(2) resource (include/uapi/asm-generic/resource.h): one more than the highest fd a process may open; EMFILE past it. */
export const RLIMIT_NOFILE = 7;
/** RLIM_INFINITY as the u64 prlimit64 carries */
export const RLIM_INFINITY = 0xffffffffffffffffn;
