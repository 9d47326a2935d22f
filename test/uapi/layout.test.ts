/**
 * The declarations against an independent source: a C program generated
 * from them is compiled with gcc against Linux's own uapi headers (Debian's
 * linux-libc-dev) and DRM's (Debian's libdrm-dev), and prints every
 * struct's sizeof, every field's offsetof, size and kind, and every ioctl
 * request number; each must equal what the declarations say.
 *
 * Declared in the C program itself, where no installed header has them:
 * sw_sync's structs and numbers (Linux keeps them in drivers/dma-buf/sw_sync.c),
 * struct sync_set_deadline and SYNC_IOC_SET_DEADLINE (Linux 6.12
 * include/uapi/linux/sync_file.h; the 6.1 headers predate them) and the
 * vgem structs and numbers (Linux include/uapi/drm/vgem_drm.h; libdrm does
 * not ship it).
 *
 * Without gcc or a header the test is skipped, saying why — unless
 * DMABUF_REQUIRE_HEADERS=1 (CI), when it fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as u from '../../src/uapi/index.js';

const HEADERS = [
  '/usr/include/linux/dma-buf.h', '/usr/include/linux/dma-heap.h', '/usr/include/linux/sync_file.h', '/usr/include/linux/udmabuf.h',
  '/usr/include/libdrm/drm.h', '/usr/include/libdrm/drm_mode.h',
];

/** Why the test cannot run here, or null. */
function missing(): string | null {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'gcc is not installed';
  }
  const absent = HEADERS.filter((h) => !existsSync(h));
  return absent.length ? `missing headers: ${absent.join(', ')} (apt-get install linux-libc-dev libdrm-dev)` : null;
}

/** Every struct the table reaches: ioctl arguments, the records pointers point to, flexible-array items. */
function structs(): u.AnyStruct[] {
  const seen = new Set<u.AnyStruct>();
  const visit = (s: u.AnyStruct): void => {
    if (seen.has(s)) return;
    seen.add(s);
    for (const f of Object.values(s.fields as u.Fields)) {
      if (f.type === 'flex') visit(f.of);
      else if (f.to?.kind === 'records') visit(f.to.of);
    }
  };
  for (const d of u.IOCTLS) if (d.arg instanceof u.Struct) visit(d.arg);
  // Structs of syscalls rather than ioctls.
  visit(u.stat);
  return [...seen];
}

const PREAMBLE = `#include <stdio.h>
#include <stddef.h>
#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/sync_file.h>
#include <linux/udmabuf.h>
#include <asm/stat.h>
#include <drm.h>
#include <drm_mode.h>

#ifndef SYNC_IOC_SET_DEADLINE
/* Linux 6.12 include/uapi/linux/sync_file.h (the installed 6.1 headers predate it) */
struct sync_set_deadline {
\t__u64 deadline_ns;
\t__u64 pad;
};
#define SYNC_IOC_SET_DEADLINE _IOW(SYNC_IOC_MAGIC, 5, struct sync_set_deadline)
#endif

#if __has_include(<vgem_drm.h>)
#include <vgem_drm.h>
#else
/* Linux include/uapi/drm/vgem_drm.h (not shipped by libdrm) */
#define DRM_VGEM_FENCE_ATTACH 0x1
#define DRM_VGEM_FENCE_SIGNAL 0x2
#define DRM_IOCTL_VGEM_FENCE_ATTACH DRM_IOWR(DRM_COMMAND_BASE + DRM_VGEM_FENCE_ATTACH, struct drm_vgem_fence_attach)
#define DRM_IOCTL_VGEM_FENCE_SIGNAL DRM_IOW(DRM_COMMAND_BASE + DRM_VGEM_FENCE_SIGNAL, struct drm_vgem_fence_signal)
struct drm_vgem_fence_attach {
\t__u32 handle;
\t__u32 flags;
\t__u32 out_fence;
\t__u32 pad;
};
struct drm_vgem_fence_signal {
\t__u32 fence;
\t__u32 flags;
};
#endif

/* Linux 6.12 drivers/dma-buf/sw_sync.c: sw_sync's ABI lives in the driver, not in a uapi header */
struct sw_sync_create_fence_data {
\t__u32 value;
\tchar name[32];
\t__s32 fence;
};
struct sw_sync_get_deadline {
\t__u64 deadline_ns;
\t__u32 pad;
\t__s32 fence_fd;
};
#define SW_SYNC_IOC_MAGIC 'W'
#define SW_SYNC_IOC_CREATE_FENCE _IOWR(SW_SYNC_IOC_MAGIC, 0, struct sw_sync_create_fence_data)
#define SW_SYNC_IOC_INC _IOW(SW_SYNC_IOC_MAGIC, 1, __u32)
#define SW_SYNC_GET_DEADLINE _IOWR(SW_SYNC_IOC_MAGIC, 2, struct sw_sync_get_deadline)

/* an integer field: 1 signed, 0 unsigned; a pointer, array or struct of the declared type: 2; anything else: 3 */
#define SIGNED(e) ((int)((__typeof__(e))-1 < 0))
`;

/** What the C program says about a field's type: signedness for integers, or a _Generic match on the declared type. */
function kindExpr(s: string, name: string, f: u.FieldDecl | u.FlexDecl): string {
  const m = `((struct ${s} *)0)->${name}`;
  if (f.type === 'flex') return `_Generic(&${m}[0], struct ${f.of.name} *: 2, default: 3)`;
  const arr = /^char\[(\d+)\]$/.exec(f.type);
  if (arr) return `_Generic(&${m}, char (*)[${arr[1]}]: 2, default: 3)`;
  if (f.type === 'char *') return `_Generic(${m}, char *: 2, default: 3)`;
  return `SIGNED(${m})`;
}

function expectedKind(f: u.FieldDecl | u.FlexDecl): number {
  if (f.type === 'flex' || f.type === 'char *' || /^char\[/.test(f.type)) return 2;
  return u.isSignedType(f.type) ? 1 : 0;
}

function program(all: u.AnyStruct[]): string {
  const lines: string[] = [];
  for (const s of all) {
    lines.push(`  printf("struct ${s.name} %zu\\n", sizeof(struct ${s.name}));`);
    for (const [name, f] of Object.entries(s.fields as u.Fields)) {
      const m = `((struct ${s.name} *)0)->${name}`;
      const size = f.type === 'flex' ? `sizeof(${m}[0])` : `sizeof(${m})`;
      lines.push(`  printf("field ${s.name}.${name} %zu %zu %d\\n", offsetof(struct ${s.name}, ${name}), ${size}, ${kindExpr(s.name, name, f)});`);
    }
  }
  for (const d of u.IOCTLS) {
    for (const name of [d.name, ...(d.aliases ?? [])]) lines.push(`  printf("ioctl ${name} %lu\\n", (unsigned long)(${name}));`);
    if (d.arg instanceof u.Scalar) lines.push(`  printf("scalar ${d.arg.type} %zu\\n", sizeof(${d.arg.type}));`);
  }
  return `${PREAMBLE}\nint main(void)\n{\n${lines.join('\n')}\n  return 0;\n}\n`;
}

test('struct sizes, field offsets and ioctl numbers match Linux\'s headers (gcc)', (t) => {
  const why = missing();
  if (why) {
    if (process.env.DMABUF_REQUIRE_HEADERS === '1') assert.fail(`DMABUF_REQUIRE_HEADERS=1 but ${why}`);
    t.skip(why);
    return;
  }
  const all = structs();
  const dir = mkdtempSync(join(tmpdir(), 'dmabuf-layout-'));
  let out: string;
  try {
    writeFileSync(join(dir, 'layout.c'), program(all));
    execFileSync('gcc', ['-std=gnu11', '-Wall', '-I/usr/include/libdrm', '-o', join(dir, 'layout'), join(dir, 'layout.c')], { stdio: ['ignore', 'ignore', 'pipe'] });
    out = execFileSync(join(dir, 'layout'), { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const c = new Map(out.trim().split('\n').map((l) => {
    const [kind, key, ...rest] = l.split(' ');
    return [`${kind} ${key}`, rest.join(' ')];
  }));
  let checked = 0;
  const expect = (key: string, value: string): void => {
    assert.equal(c.get(key), value, key);
    checked++;
  };
  for (const s of all) {
    expect(`struct ${s.name}`, String(s.size));
    for (const [name, f] of Object.entries(s.fields as u.Fields)) {
      const size = f.type === 'flex' ? f.of.size : u.sizeofType(f.type);
      expect(`field ${s.name}.${name}`, `${f.offset} ${size} ${expectedKind(f)}`);
    }
  }
  for (const d of u.IOCTLS) {
    for (const name of [d.name, ...(d.aliases ?? [])]) expect(`ioctl ${name}`, String(d.request));
    if (d.arg instanceof u.Scalar) expect(`scalar ${d.arg.type}`, String(d.arg.size));
  }
  assert.equal(checked, c.size, 'every line the C program printed was compared');
  assert.ok(all.length >= 24 && checked >= 130, `${all.length} structs, ${checked} facts`);
});
