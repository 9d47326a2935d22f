/**
 * A small DevTools-protocol client for headless chromium over
 * --remote-debugging-pipe (fd 3 to the browser, fd 4 from it, messages of
 * JSON ended by NUL): enough to open a page, evaluate script in it and
 * send real mouse and key events, with no package and no network port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

interface Pending {
  resolve: (v: Record<string, unknown>) => void;
  reject: (e: Error) => void;
}

export class Browser {
  private next = 1;
  private readonly pending = new Map<number, Pending>();
  private buf = '';
  private readonly out: Writable;
  private session = '';
  stderr = '';

  private constructor(private readonly child: ChildProcess) {
    this.out = child.stdio[3] as Writable;
    const input = child.stdio[4] as Readable;
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => {
      this.buf += chunk;
      let end: number;
      while ((end = this.buf.indexOf('\0')) >= 0) {
        const msg = JSON.parse(this.buf.slice(0, end)) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
        this.buf = this.buf.slice(end + 1);
        const p = msg.id !== undefined ? this.pending.get(msg.id) : undefined;
        if (!p) continue;
        this.pending.delete(msg.id!);
        if (msg.error) p.reject(new Error(msg.error.message));
        else p.resolve(msg.result ?? {});
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    child.on('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error(`chromium exited: ${this.stderr.slice(-500)}`));
      this.pending.clear();
    });
  }

  static launch(chromium: string, args: string[], width: number, height: number): Browser {
    const child = spawn(chromium, [...args, '--remote-debugging-pipe', `--window-size=${width},${height}`, 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    return new Browser(child);
  }

  /** One protocol call (on the page's session once open() attached to it); rejects after `timeoutMs`. */
  send(method: string, params: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const id = this.next++;
    const msg: Record<string, unknown> = { id, method, params };
    if (this.session && !/^(Target|Browser)\./.test(method)) msg.sessionId = this.session;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.out.write(`${JSON.stringify(msg)}\0`);
    });
  }

  /** Open `url` in a new page and wait until `ready` (an expression) is true. */
  async open(url: string, ready: string, timeoutMs = 30_000): Promise<void> {
    const { targetId } = await this.send('Target.createTarget', { url });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    this.session = String(sessionId);
    const until = Date.now() + timeoutMs;
    while (!(await this.eval<boolean>(ready).catch(() => false))) {
      if (Date.now() > until) throw new Error(`the page was not ready in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The value of an expression in the page (JSON-serialisable). */
  async eval<T>(expression: string): Promise<T> {
    const r = (await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true })) as { result: { value: T }; exceptionDetails?: { text: string } };
    if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.text}`);
    return r.result.value;
  }

  mouse(type: string, x: number, y: number, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.send('Input.dispatchMouseEvent', { type, x, y, ...extra });
  }

  async close(): Promise<void> {
    const gone = new Promise<void>((r) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) r();
      else this.child.once('exit', () => r());
    });
    await this.send('Browser.close', {}, 5000).catch(() => this.child.kill('SIGKILL'));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}
