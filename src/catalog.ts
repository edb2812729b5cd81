// The engine's tables by name and id, over the per-socket memory pools. DDL is applied here both by
// committing transactions and by recovery, so the two cannot drift apart.

import type { TableDef } from './store/schema.js';
import { TableSchema } from './store/schema.js';
import { Table } from './store/table.js';
import { ChunkPools } from './store/chunk-pool.js';
import { Errors, MotError } from './errors.js';
import { checkName, checkNameCharacters } from './names.js';

export class Catalog {
  private readonly byName = new Map<string, Table>();
  private readonly byId = new Map<number, Table>();
  private nextId = 1;

  constructor(readonly pools: ChunkPools) {}

  /** Validate a definition and reserve an id (nothing is created yet). */
  prepareCreate(def: TableDef): { id: number; schema: TableSchema } {
    checkDefinitionNames(def);
    if (this.byName.has(def.name)) {
      throw new MotError({
        code: 'MOT_ERROR_INVALID_ARG',
        rc: 'RC_ERROR',
        sqlstate: 'duplicate_table',
        message: `relation "${def.name}" already exists`,
      });
    }
    const schema = TableSchema.create(def);
    return { id: this.nextId++, schema };
  }

  create(id: number, schema: TableSchema): Table {
    const table = new Table(id, schema, this.pools);
    this.byName.set(table.name, table);
    this.byId.set(id, table);
    if (id >= this.nextId) this.nextId = id + 1;
    return table;
  }

  /** Recreate a table from its definition (recovery). */
  createFromDef(id: number, def: TableDef): Table {
    return this.create(id, TableSchema.create(def));
  }

  drop(table: Table): void {
    this.byName.delete(table.name);
    this.byId.delete(table.id);
    table.drop();
  }

  get(name: string): Table {
    const t = this.byName.get(name);
    if (!t) throw Errors.tableNotFound(name);
    return t;
  }

  find(name: string): Table | undefined {
    return this.byName.get(name);
  }

  byIdOrUndefined(id: number): Table | undefined {
    return this.byId.get(id);
  }

  tables(): Table[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }
}

/**
 * The names a new table brings (src/names.ts): its name, `[database.]table` with each part at most
 * NAME_BYTES_MAX bytes, its indexes' names, and its columns' characters (their length is MOT's limit,
 * checked by TableSchema.create). Only for new tables: recovery recreates tables of any name.
 * Anything not a string is left to TableSchema.create, which refuses malformed definitions.
 */
function checkDefinitionNames(def: TableDef): void {
  if (def === null || typeof def !== 'object' || typeof def.name !== 'string') return;
  const dot = def.name.indexOf('.');
  if (dot >= 0) checkName('database', def.name.slice(0, dot));
  checkName('table', dot >= 0 ? def.name.slice(dot + 1) : def.name);
  if (Array.isArray(def.columns)) {
    for (const c of def.columns) if (typeof c?.name === 'string') checkNameCharacters('column', c.name);
  }
  if (Array.isArray(def.indexes)) {
    for (const i of def.indexes) if (typeof i?.name === 'string') checkName('index', i.name);
  }
}
