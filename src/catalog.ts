// The engine's tables by name and id, over the per-socket memory pools. DDL is applied here both by
// committing transactions and by recovery, so the two cannot drift apart. A CREATE, DROP or TRUNCATE
// claims the table's name before its redo is logged and holds it until it is applied, so two DDLs on
// one name never both pass their checks (src/reservations.ts); CREATE and DROP INDEX claim the table
// (beside truncates) and the index's name in its database (index names of new indexes are unique per
// database, PostgreSQL's per-schema rule: the database is the part of a table name before its first
// '.').

import type { TableDef } from './store/schema.js';
import { TableSchema } from './store/schema.js';
import { Table } from './store/table.js';
import { ChunkPools } from './store/chunk-pool.js';
import { Errors, MotError } from './errors.js';
import { checkName, checkNameCharacters } from './names.js';
import { Reservations, type Release } from './reservations.js';

export class Catalog {
  private readonly byName = new Map<string, Table>();
  private readonly byId = new Map<number, Table>();
  private nextId = 1;
  /** Names of tables with a CREATE, DROP or TRUNCATE in flight (src/reservations.ts). */
  private readonly claims = new Reservations();

  constructor(readonly pools: ChunkPools) {}

  /**
   * Validate a definition, reserve an id and claim the name (nothing is created yet). The caller
   * creates the table with `create` once its CREATE_TABLE is logged, and calls `release` however
   * that ends: until then a second CREATE of the name gets 42P07, as if this one had happened.
   */
  prepareCreate(def: TableDef): { id: number; schema: TableSchema; release: Release } {
    checkDefinitionNames(def);
    if (typeof def?.name === 'string' && this.byName.has(def.name)) throw duplicateTable(def.name);
    const schema = TableSchema.create(def);
    const release = this.claims.tryExclusive(schema.name);
    if (release === undefined) throw duplicateTable(schema.name); // a CREATE of the name is in flight
    return { id: this.nextId++, schema, release };
  }

  /**
   * Claim an existing table for a DROP (alone) or a TRUNCATE (beside other truncates) while its redo is
   * logged. A table whose DROP is in flight is already gone for everyone else (42P01); a DROP while a
   * TRUNCATE is in flight is refused with 55006 (nothing waits).
   */
  prepareDdl(name: string, kind: 'drop' | 'truncate'): { table: Table; release: Release } {
    const table = this.get(name);
    const release = kind === 'drop' ? this.claims.tryExclusive(name) : this.claims.tryShared(name);
    if (release !== undefined) return { table, release };
    if (this.claims.isExclusive(name)) throw Errors.tableNotFound(name); // its DROP is in flight
    throw Errors.objectInUse(`table "${name}"`, 'a TRUNCATE, CREATE INDEX or DROP INDEX in progress');
  }

  /**
   * Claim an existing table for CREATE INDEX or DROP INDEX `indexName` (beside truncates, like a
   * TRUNCATE) and the index's name in the table's database, while its redo is logged. CREATE: the
   * name must not be any index's (primary keys included) of a table of that database, else 42P07, as
   * if a CREATE of the name in flight had happened. DROP: the table must have the index (else
   * RC_INDEX_NOT_FOUND, as if a DROP of it in flight had happened); a primary key cannot be dropped.
   */
  prepareIndexDdl(tableName: string, indexName: string, kind: 'create' | 'drop'): { table: Table; release: Release } {
    const table = this.get(tableName);
    if (kind === 'create') {
      const holder = this.indexHolder(databaseOf(tableName), indexName);
      if (holder !== undefined) throw duplicateIndex(indexName, holder.name);
    } else if (table.schema.index(indexName) === undefined) {
      if (indexName === table.schema.primaryKeyName) throw Errors.notSupported(`dropping the primary key index "${indexName}" of table "${tableName}" (MOT tables need a primary key)`);
      throw Errors.indexNotFound(indexName, tableName);
    }
    const releaseName = this.claims.tryExclusive(indexClaimKey(databaseOf(tableName), indexName));
    if (releaseName === undefined) {
      // Another CREATE or DROP of the name is in flight: answered as if it had happened.
      throw kind === 'create' ? duplicateIndex(indexName, tableName) : Errors.indexNotFound(indexName, tableName);
    }
    const releaseTable = this.claims.tryShared(tableName);
    if (releaseTable === undefined) {
      releaseName();
      throw Errors.tableNotFound(tableName); // its DROP is in flight
    }
    return {
      table,
      release: () => {
        releaseTable();
        releaseName();
      },
    };
  }

  /** A table of `database` with an index (or primary key) named `indexName`, if any. */
  private indexHolder(database: string, indexName: string): Table | undefined {
    for (const t of this.byName.values()) {
      if (databaseOf(t.name) !== database) continue;
      // A primary key is named `<table>_pkey`, with the table's name inside its database or whole.
      const pkey = `${t.name.slice(t.name.indexOf('.') + 1)}_pkey`;
      if (t.schema.primaryKeyName === indexName || pkey === indexName || t.schema.index(indexName) !== undefined) return t;
    }
    return undefined;
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

/** The database part of a table name (before its first '.'; '' for none): the namespace of index names. */
function databaseOf(tableName: string): string {
  const dot = tableName.indexOf('.');
  return dot < 0 ? '' : tableName.slice(0, dot);
}

/** The claim of an index name in a database (a control character no new table name can hold keeps it apart). */
function indexClaimKey(database: string, indexName: string): string {
  return `\u0001index\u0001${database}\u0001${indexName}`;
}

function duplicateIndex(indexName: string, table: string): MotError {
  return new MotError({
    code: 'MOT_ERROR_INVALID_ARG',
    rc: 'RC_ERROR',
    sqlstate: 'duplicate_table',
    message: `relation "${indexName}" already exists`,
    detail: `an index of table "${table}" has that name (index names are unique per database)`,
  });
}

function duplicateTable(name: string): MotError {
  return new MotError({ code: 'MOT_ERROR_INVALID_ARG', rc: 'RC_ERROR', sqlstate: 'duplicate_table', message: `relation "${name}" already exists` });
}
