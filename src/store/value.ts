// A column value and a row as the API passes them (its own file: the schema, the row layout and the
// column accessors all use them without importing each other for it).

/** int64 is bigint; int32/float64 number; varchar string (UTF-8, at most `size` bytes); bytes Uint8Array. */
export type Value = number | bigint | boolean | string | Uint8Array | null;
export type Row = Record<string, Value>;
