/**
 * dmabuf: Linux DMA-BUF in TypeScript. The kernel face is re-exported from
 * 'dmabuf/kernel'; uapi constants and struct codecs from 'dmabuf/uapi'.
 */
export * as kernel from './kernel/index.js';
