// TypeDoc plugin of this project (typedoc.json "plugin"):
// - every `xAsync` twin of a syscall (a mapped type, so it has no comment of
//   its own) is documented from its blocking twin `x`;
// - every exported function and class must carry an @example: a missing one
//   is a warning, and warnings are errors in `npm run docs`.
import { Comment, Converter, ReflectionKind } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const project = context.project;
    for (const refl of project.getReflectionsByKind(ReflectionKind.Property | ReflectionKind.Method)) {
      if (!refl.name.endsWith('Async') || refl.hasComment() || refl.signatures?.some((s) => s.hasComment())) continue;
      const name = refl.name.slice(0, -'Async'.length);
      const twin = refl.parent?.getChildByName?.(name);
      if (!twin) continue;
      refl.comment = new Comment([
        { kind: 'text', text: 'The same call as ' },
        { kind: 'inline-tag', tag: '@link', text: name, target: twin },
        {
          kind: 'text',
          text:
            ', made without blocking this thread: the promise settles when the kernel answers. A trailing ' +
            '`{ signal }` (an AbortSignal) interrupts the call in the kernel as a signal would (no waiter stays behind): ' +
            "the promise rejects with the signal's reason, or settles with the call's result if the kernel answered first.",
        },
      ]);
    }
  });
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    for (const refl of context.project.getReflectionsByKind(ReflectionKind.Function | ReflectionKind.Class)) {
      const comments = refl.kindOf(ReflectionKind.Function) ? (refl.signatures ?? []).map((s) => s.comment) : [refl.comment];
      if (!comments.some((c) => c?.getTag('@example'))) app.logger.warn(`${refl.getFriendlyFullName()} (${ReflectionKind[refl.kind]}) has no @example`);
    }
  });
}
