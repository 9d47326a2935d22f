/**
 * include/uapi/asm-generic/mman-common.h, and include/uapi/linux/mman.h for
 * the mapping types (MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE).
 */

/** mmap(2) protection: no access (include/uapi/asm-generic/mman-common.h). */
export const PROT_NONE = 0x0;
/** mmap(2) protection: pages can be read; the fd must be open for reading. */
export const PROT_READ = 0x1;
/** mmap(2) protection: pages can be written; with MAP_SHARED the fd must be open for writing (EACCES otherwise). */
export const PROT_WRITE = 0x2;
/** mmap(2) protection: pages can be executed. */
export const PROT_EXEC = 0x4;
/** mmap(2) type (include/uapi/linux/mman.h): writes go to the file (the buffer) and are seen by every mapping of it; what a dma-buf needs. */
export const MAP_SHARED = 0x01;
/** mmap(2) type: a copy-on-write private mapping. */
export const MAP_PRIVATE = 0x02;
/** mmap(2) type: MAP_SHARED that fails with EOPNOTSUPP on flags the kernel does not know. */
export const MAP_SHARED_VALIDATE = 0x03;
/** The mask of the mapping-type bits (SHARED, PRIVATE, SHARED_VALIDATE). */
export const MAP_TYPE = 0x0f;
/** mmap(2) flag: map exactly at the address given. */
export const MAP_FIXED = 0x10;
/** mmap(2) flag: memory not backed by a file (fd ignored). */
export const MAP_ANONYMOUS = 0x20;
/** mmap(2) flag: fault the pages in now rather than on first touch. */
export const MAP_POPULATE = 0x8000;
