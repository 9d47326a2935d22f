/**
 * The native backend's ioctl shapes against the struct declarations: every
 * fd field a shape lists is a 32-bit field of the ioctl's struct, and every
 * field of the dma-buf family that carries an fd is listed (a field the
 * table misses would let a process pass another's fd, and the differential
 * runner could not tell it is an fd).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as u from '../../src/uapi/index.js';
import { ioctlShape } from '../../src/native/ioctl-shapes.js';

/** Every field of the uapi structs that holds an fd, as `ioctl: field`. */
const FD_FIELDS: [number, u.AnyStruct, string, 'in' | 'out'][] = [
  [u.DMA_HEAP_IOCTL_ALLOC, u.dma_heap_allocation_data, 'fd', 'out'],
  [u.DMA_BUF_IOCTL_EXPORT_SYNC_FILE, u.dma_buf_export_sync_file, 'fd', 'out'],
  [u.DMA_BUF_IOCTL_IMPORT_SYNC_FILE, u.dma_buf_import_sync_file, 'fd', 'in'],
  [u.SYNC_IOC_MERGE, u.sync_merge_data, 'fd2', 'in'],
  [u.SYNC_IOC_MERGE, u.sync_merge_data, 'fence', 'out'],
  [u.SW_SYNC_IOC_CREATE_FENCE, u.sw_sync_create_fence_data, 'fence', 'out'],
  [u.SW_SYNC_GET_DEADLINE, u.sw_sync_get_deadline, 'fence_fd', 'in'],
  [u.UDMABUF_CREATE, u.udmabuf_create, 'memfd', 'in'],
  [u.DRM_IOCTL_PRIME_HANDLE_TO_FD, u.drm_prime_handle, 'fd', 'out'],
  [u.DRM_IOCTL_PRIME_FD_TO_HANDLE, u.drm_prime_handle, 'fd', 'in'],
];

test('each fd field of the uapi structs is in the ioctl shapes, at its declared offset', () => {
  for (const [request, s, field, dir] of FD_FIELDS) {
    const shape = ioctlShape(request);
    const at = (s.fields as u.Fields)[field].offset;
    const listed = dir === 'in' ? shape?.fdIn : shape?.fdOut;
    assert.ok(Array.isArray(listed), `${u.ioctlInfo(request)?.name}: no fd ${dir === 'in' ? 'input' : 'output'} fields`);
    assert.ok((listed as readonly number[]).includes(at), `${u.ioctlInfo(request)?.name}.${field} (offset ${at}) is not listed`);
  }
});
