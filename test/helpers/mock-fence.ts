/** The selftests' mock fences: driver and timeline name "mock". */
import { DmaFence, type DmaFenceOps } from '../../src/kernel/fence/dma-fence.js';

export const mockOps: DmaFenceOps = {
  getDriverName: () => 'mock',
  getTimelineName: () => 'mock',
};

/** mock_fence(): context 0, seqno 0 */
export function mockFence(context = 0, seqno = 0): DmaFence {
  return new DmaFence(mockOps, context, seqno);
}
