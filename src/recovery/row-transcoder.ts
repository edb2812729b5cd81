// Replays a CREATE_ROW redo entry straight into a row slot: the redo's column set (redo-format.ts)
// is copied field by field into the slot layout (store/row-layout.ts) by code generated once per
// table, with no row object and no UTF-8 decode/encode round trip. WAL replay's hot path.

import type { ColumnDef } from '../store/schema.js';
import type { RowLayout } from '../store/row-layout.js';
import { bitmapBytes } from '../redo/redo-format.js';

/** Writes the full-row column set `body` into the zeroed slot at `base`. Throws RangeError if malformed. */
export type RowTranscoder = (body: Uint8Array, buf: Buffer, base: number) => void;

export function compileRowTranscoder(columns: readonly ColumnDef[], layout: RowLayout): RowTranscoder {
  const n = columns.length;
  const mapBytes = bitmapBytes(n);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const col = columns[i]!;
    const slot = layout.columns[i]!;
    const byte = i >> 3;
    const bit = 1 << (i & 7);
    const nullAt = layout.nullBitmapOffset + byte;
    lines.push(`if (!(body[${byte}] & ${bit})) throw new RangeError('column ${i} missing from a full row');`);
    lines.push(`if (body[${mapBytes + byte}] & ${bit}) { buf[base + ${nullAt}] |= ${bit}; } else {`);
    switch (col.type) {
      case 'int32':
      case 'int64':
      case 'float64':
      case 'bool': {
        const width = col.type === 'int32' ? 4 : col.type === 'bool' ? 1 : 8;
        lines.push(`  if (pos + ${width} > end) throw new RangeError('column set truncated');`);
        for (let k = 0; k < width; k++) lines.push(`  buf[base + ${slot.offset + k}] = body[pos + ${k}];`);
        lines.push(`  pos += ${width};`);
        break;
      }
      case 'varchar':
      case 'bytes':
        lines.push(`  if (pos + 2 > end) throw new RangeError('column set truncated');`);
        lines.push(`  len = body[pos] | (body[pos + 1] << 8);`);
        lines.push(`  if (len > ${slot.sizeBytes} || pos + 2 + len > end) throw new RangeError('column ${i} value of ' + len + ' bytes does not fit');`);
        lines.push(`  for (let k = 0; k < len + 2; k++) buf[base + ${slot.offset} + k] = body[pos + k];`);
        lines.push(`  pos += 2 + len;`);
        break;
    }
    lines.push('}');
  }
  const source = `return function transcode(body, buf, base) {
  const end = body.length;
  let pos = ${mapBytes * 2};
  let len = 0;
  ${lines.join('\n  ')}
  if (pos !== end) throw new RangeError('column set has ' + (end - pos) + ' trailing bytes');
};`;
  return new Function('RangeError', source)(RangeError) as RowTranscoder;
}
