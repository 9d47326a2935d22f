/**
 * An out-parameter, for Linux functions that return through a pointer
 * argument (`struct dma_fence **pfence`, `u32 *idx`): pass `{ value }` and
 * read `.value` afterwards.
 */
export interface Out<T> {
  value: T;
}
