// Byte layout of a transaction's redo buffer (the payload of one WAL REDO frame). Shared by the
// encoder (redo-encoder.ts, commit path) and the decoder (redo-decoder.ts, recovery and waldump),
// which never import each other. All integers little endian.
//
//   redo buffer  := u32 bufferBytes | entry* | end block (32 bytes)
//   entry        := u8 op | u8 0 | u16 0 | u32 tableId | u32 bodyBytes | body (bodyBytes)
//   end block    := u8 endOp | u8 version(=1) | u16 0 | u32 entryCount | f64 csn | f64 txId | f64 commitWallMs
//
//   endOp: COMMIT (the transaction's last buffer), PARTIAL (a transaction too big for one buffer:
//          more buffers with the same txId follow, the last with COMMIT), ROLLBACK.
//   op bodies:
//     CREATE_ROW    column set with every column (the full row)
//     UPDATE_ROW    column set with the primary key columns and the changed columns only (the delta)
//     REMOVE_ROW    column set with the primary key columns only
//     CREATE_TABLE  msgpack of the TableDef
//     DROP_TABLE, TRUNCATE_TABLE   empty
//     CREATE_INDEX  msgpack of { name, columns, unique }
//     DROP_INDEX    msgpack of the index name
//   column set   := presentBitmap (ceil(n/8) bytes) | nullBitmap (ceil(n/8) bytes) | value* for each
//                   present, non-null column in column order:
//                     int32 i32 | int64 i64 | float64 f64 | bool u8 | varchar u16 length + UTF-8 | bytes u16 length + bytes
//
// Order inside a transaction: DDL entries first, then row entries; one entry per row (its final state).

export const REDO_BUFFER_HEADER_BYTES = 4;
export const REDO_END_BLOCK_BYTES = 32;
export const REDO_ENTRY_HEADER_BYTES = 12;
export const REDO_FORMAT_VERSION = 1;

export const RedoOp = {
  CREATE_ROW: 1,
  UPDATE_ROW: 2,
  REMOVE_ROW: 3,
  CREATE_TABLE: 10,
  DROP_TABLE: 11,
  CREATE_INDEX: 12,
  DROP_INDEX: 13,
  TRUNCATE_TABLE: 14,
} as const;
export type RedoOpCode = (typeof RedoOp)[keyof typeof RedoOp];

export const RedoEndOp = {
  COMMIT: 1,
  PARTIAL: 2,
  ROLLBACK: 3,
} as const;
export type RedoEndOpCode = (typeof RedoEndOp)[keyof typeof RedoEndOp];

export function redoOpName(op: number): string {
  for (const [name, code] of Object.entries(RedoOp)) if (code === op) return name;
  return `UNKNOWN(${op})`;
}

export function redoEndOpName(op: number): string {
  for (const [name, code] of Object.entries(RedoEndOp)) if (code === op) return name;
  return `UNKNOWN(${op})`;
}

/** Bytes of a column-set bitmap for n columns. */
export function bitmapBytes(columnCount: number): number {
  return (columnCount + 7) >> 3;
}
