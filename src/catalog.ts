// The engine's tables by name and id, over the per-socket memory pools. DDL is applied here both by
// committing transactions and by recovery, so the two cannot drift apart.

import type { TableDef } from './store/schema.js';
import { TableSchema } from './store/schema.js';
import { Table } from './store/table.js';
import { ChunkPools } from './store/chunk-pool.js';
import { Errors, MotError } from './errors.js';

export class Catalog {
  private readonly byName = new Map<string, Table>();
  private readonly byId = new Map<number, Table>();
  private nextId = 1;

  constructor(readonly pools: ChunkPools) {}

  /** Validate a definition and reserve an id (nothing is created yet). */
  prepareCreate(def: TableDef): { id: number; schema: TableSchema } {
    const schema = TableSchema.create(def); // checks the definition itself first (a null one included)
    if (this.byName.has(def.name)) {
      throw new MotError({
        code: 'MOT_ERROR_INVALID_ARG',
        rc: 'RC_ERROR',
        sqlstate: 'duplicate_table',
        message: `relation "${def.name}" already exists`,
      });
    }
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
