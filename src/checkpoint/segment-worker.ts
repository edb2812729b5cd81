// A checkpoint worker thread (piscina): seals a segment before it is written, or verifies one read back
// at recovery. Pure CPU work on a buffer transferred in and moved back; it never touches a file.

import { move } from 'piscina';
import { sealSegment, verifySegment, isSegmentFault, type SegmentFault, type SegmentHeader } from './checkpoint-format.js';

export interface SegmentTask {
  op: 'seal' | 'verify';
  bytes: Uint8Array;
  header: SegmentHeader;
}

export default function runSegmentTask(task: SegmentTask): unknown {
  if (task.op === 'seal') {
    sealSegment(task.bytes, task.header);
    return move(task.bytes);
  }
  const r = verifySegment(task.bytes, task.header);
  return isSegmentFault(r) ? ({ offset: r.offset, reason: r.reason } satisfies SegmentFault) : move(task.bytes);
}
