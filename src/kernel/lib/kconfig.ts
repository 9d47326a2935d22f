/**
 * Build-time switches of drivers/dma-buf/Kconfig that change behaviour.
 * Set them before the objects they affect exist.
 */
export const kconfig = {
  /** CONFIG_DMABUF_MOVE_NOTIFY: dynamic importers of dynamic exporters are not pinned on map */
  DMABUF_MOVE_NOTIFY: false,
  /** CONFIG_DMABUF_DEBUG: mangle the page links of sg_tables handed to importers */
  DMABUF_DEBUG: false,
  /** CONFIG_PROVE_LOCKING: lockdep's lock-order validation (src/kernel/locking/lockdep.ts) */
  PROVE_LOCKING: false,
  /** not in Linux: report CPU accesses of buffers mapped by non-coherent devices that skip begin/end_cpu_access (src/kernel/buf/coherency.ts) */
  DMABUF_COHERENCY_CHECK: false,
  /**
   * not in Linux: detect, after the fact, writes a process made through a
   * PROT_READ mapping or through a view after munmap (a fault on Linux),
   * and end it with SIGSEGV (src/kernel/fs/user-mappings.ts)
   */
  DMABUF_CHECK_USER_MAPPINGS: false,
  /** CONFIG_DMABUF_SYSFS_STATS: /sys/kernel/dmabuf/buffers/<ino>/{exporter_name,size} */
  DMABUF_SYSFS_STATS: true,
  /** CONFIG_SW_SYNC: sw_sync and sync_debug (drivers/dma-buf/Makefile builds both under it): <debugfs>/sync/{sw_sync,info}. Debian's kernels leave it out. */
  SW_SYNC: true,
};
