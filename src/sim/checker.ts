// The crash oracle: after a crash and a recovery, states from the ledger what the logging mode
// promised and whether recovery kept it: which acknowledged commits must survive, that the recovered
// rows are the state after a prefix of the log order, that damage inside the log was reported and a
// lost tail was not, and that nothing was acknowledged after the WAL failed. Pure: no engine, no I/O.

import type { LoggingMode } from '../config/config.js';
import { ASYNC_BACK_PRESSURE_DELAYS } from '../commit-group/async-handler.js';
import { isMotError } from '../errors.js';
import { FRAME_HEADER_BYTES, parseSegmentFileName } from '../wal/wal-format.js';
import type { FaultRecord } from './faults.js';
import type { Ledger, LedgerEntry } from './ledger.js';
import { entryData, type EntryData } from './entry-data.js';
import { defText, rowCell, rowText, tableCell, type ModelDb, type RowEffect } from './model.js';
import { checkSerializable } from './serializability.js';

export type ViolationKind =
  /** A commit the mode promised to keep (sync/group: acknowledged; async: flushed) is gone. */
  | 'acknowledged-commit-lost'
  /** The recovered rows are not the state after any prefix of the log order (partial or reordered). */
  | 'not-a-log-prefix'
  /** sync/group acknowledged a commit whose redo never reached the log. */
  | 'acknowledged-but-not-logged'
  /** A bit flipped inside a durable WAL frame and recovery accepted the log. */
  | 'damage-not-reported'
  /** Recovery reported corruption though only unflushed data was lost (a torn tail must be cut silently). */
  | 'false-corruption-report'
  /** Recovery failed with something other than a corruption report. */
  | 'recovery-failed'
  /** A commit issued after the WAL failed for good (EIO: read-only until reopened) was acknowledged. */
  | 'acknowledged-after-wal-failure'
  /** What a reader of the running engine sees differs from the acknowledged rows. */
  | 'visible-state-mismatch'
  /** A transaction's reads or outcomes differ from a serial execution in CSN order (an isolation bug). */
  | 'not-serializable'
  /** A read returned a row of another key, or a scan a row outside its range or out of order (any transaction). */
  | 'wrong-row-returned'
  /** The simulation stopped making progress in virtual time. */
  | 'simulation-hang'
  /**
   * Asynchronous mode lost an acknowledged commit older than its documented loss bound (see
   * checkAsyncLossBound): the background flush was starved or acknowledgements outran it.
   */
  | 'async-loss-bound-exceeded'
  /** Sessions kept the thread busy past the commit path's yield bound: timers could not run. */
  | 'event-loop-starved'
  /**
   * A commit whose client was told it failed (any rejection but 08007, outcome unknown) is in the
   * recovered state: a failed write left redo that recovery replayed.
   */
  | 'rejected-commit-recovered'
  /** `motsim inspect` (inspectDataDir) judged the crashed directory otherwise than recovery did. */
  | 'inspect-disagrees-with-recovery';

export interface Violation {
  kind: ViolationKind;
  message: string;
  /** The few ledger entries involved, as data (formatEntryData prints one line each). */
  entries: EntryData[];
}

/** A bit flipped in a WAL file, located in the log. */
export interface Damage {
  path: string;
  fileOffset: number;
  /** LSN of the byte, if the file is a WAL segment. */
  lsn: number | undefined;
  /** Inside the CRC-covered bytes of a frame known durable: recovery must report it. */
  insideDurableFrame: boolean;
  detail: string;
  /**
   * Damage at the log's end (crash-test faults wal-truncate, wal-delete-last, wal-zero-last): the
   * first LSN of the log the fault destroyed. Everything from it on is gone.
   */
  firstLostLsn?: number;
  /** Ledger.knownDurableLsn at the crash: the LSN recovery can know was durable, by the documented rules. */
  knownDurableLsn?: number;
  /** The fault shortened a preallocated segment ending at this LSN (recovery reads it if replay starts below). */
  shortenedSegmentEndLsn?: number;
  /** The fault destroyed log bytes the engine had reported durable, or shortened a preallocated segment: a report is allowed. */
  destroyedDurable?: boolean;
}

/** What recovery did: every table and row it brought back, and the LSN its WAL replay started from (a checkpoint's, or 0). */
export type RecoveryOutcome = { ok: true; state: ModelDb; replayedFromLsn?: number } | { ok: false; error: unknown };

export interface CrashCheckInput {
  mode: LoggingMode;
  ledger: Ledger;
  /** The incarnation that crashed. */
  epoch: number;
  /** Tables and rows when that incarnation started (the previous recovery's result, already checked). */
  base: ModelDb;
  recovery: RecoveryOutcome;
  damage: readonly Damage[];
  /** Virtual time of the crash (the asynchronous loss bound is measured back from it). */
  crashAtUs?: number;
  /** wal_writer_delay in µs: with crashAtUs, asynchronous mode's loss bound is checked. */
  walWriterDelayUs?: number;
}

export interface CrashCheckResult {
  violations: Violation[];
  /** Writing transactions acknowledged in the epoch. */
  acked: number;
  /** Of those, the ones the mode promised to keep. */
  mustSurvive: number;
  /** Acknowledged but absent after recovery (async: the unflushed window). */
  ackedLost: number;
  /** Of ackedLost, those the mode allowed to lose (never reported durable before the crash). */
  ackedLostAllowed: number;
  /** Acknowledged, absent after recovery, and destroyed by end damage no witness covered (not in ackedLost). */
  ackedLostToDamage: number;
  /** Handed to the log but not acknowledged at the crash, yet recovered. */
  survivedUnacked: number;
  /** Transactions of the epoch in the log order, and how many recovery kept (undefined: no prefix matched). */
  logLength: number;
  prefixLength: number | undefined;
  corruptionReported: boolean;
  /** Transactions re-executed in CSN order by the serializability check. */
  serialized: number;
  /**
   * Ledger ids of the epoch's transactions in the log order that recovery kept (the matched prefix,
   * or the shorter prefix the recovered rows are when promised commits were lost), and of those it
   * did not; both undefined when recovery failed or the recovered rows are no prefix of the log.
   */
  keptIds: ReadonlySet<number> | undefined;
  lostIds: ReadonlySet<number> | undefined;
}

const ENTRIES_SHOWN_MAX = 6;

/** Whether the mode promised `e` would survive a crash. */
export function mustSurvive(mode: LoggingMode, e: LedgerEntry): boolean {
  if (e.readOnly || e.ackAtUs === undefined) return false;
  if (mode === 'synchronous' || mode === 'group') return true;
  if (mode === 'asynchronous') return e.durableAtUs !== undefined;
  return false;
}

export function checkCrash(input: CrashCheckInput): CrashCheckResult {
  const { mode, ledger, epoch } = input;
  const epochEntries = ledger.entries.filter((e) => e.epoch === epoch && !e.readOnly);
  const acked = epochEntries.filter((e) => e.ackAtUs !== undefined);
  const must = epochEntries.filter((e) => mustSurvive(mode, e));
  const log = ledger.logOrder(epoch);
  const history = checkSerializable(ledger.entries.filter((e) => e.epoch === epoch), input.base);
  const result: CrashCheckResult = {
    violations: [],
    acked: acked.length,
    mustSurvive: must.length,
    ackedLost: 0,
    ackedLostAllowed: 0,
    ackedLostToDamage: 0,
    survivedUnacked: 0,
    logLength: log.length,
    prefixLength: undefined,
    corruptionReported: false,
    serialized: history.checked,
    keptIds: undefined,
    lostIds: undefined,
  };
  const add = (kind: ViolationKind, message: string, entries: LedgerEntry[]): void => {
    result.violations.push({ kind, message, entries: entries.slice(0, ENTRIES_SHOWN_MAX).map(entryData) });
  };
  for (const v of history.violations.slice(0, ENTRIES_SHOWN_MAX)) add(v.kind, v.message, [v.entry]);

  checkAfterWalFailure(ledger, epochEntries, add);
  const unlogged = must.filter((e) => e.lsn === undefined);
  if (unlogged.length > 0) {
    add('acknowledged-but-not-logged', `${unlogged.length} acknowledged commit(s) of epoch ${epoch} never reached the log (mode ${mode})`, unlogged);
  }

  if (!input.recovery.ok) {
    checkRecoveryError(input.recovery.error, input.damage, result, add);
    return result;
  }
  // Frames below the checkpoint recovery started from are not needed any more: damage there may go unread.
  const from = input.recovery.replayedFromLsn ?? 0;
  // End damage destroys the log from its first lost LSN on: a bit flip there is gone with it.
  const endLostFrom = Math.min(...input.damage.map((d) => d.firstLostLsn ?? Number.POSITIVE_INFINITY));
  const frameEndAt = (lsn: number): number => {
    const f = ledger.frames.find((x) => lsn >= x.lsn && lsn < x.lsn + FRAME_HEADER_BYTES + x.payloadBytes);
    return f === undefined ? lsn + 1 : f.lsn + FRAME_HEADER_BYTES + f.payloadBytes;
  };
  const protectedDamage = input.damage.filter((d) => d.insideDurableFrame && d.lsn !== undefined && d.lsn >= from && frameEndAt(d.lsn) <= endLostFrom);
  if (protectedDamage.length > 0) {
    const d = protectedDamage[0]!;
    add('damage-not-reported', `recovery accepted the log although ${d.detail} (${d.path} offset ${d.fileOffset}, LSN ${d.lsn}) inside a durable frame`, []);
  }

  // End damage: required reports; and from the first destroyed LSN on (endLostFrom), losses are the fault's (allowed).
  for (const d of input.damage) {
    if (d.firstLostLsn === undefined) continue;
    if (endDamageMustBeReported(d, from)) {
      add(
        'damage-not-reported',
        `recovery accepted a log whose end was destroyed from LSN ${d.firstLostLsn} (${d.detail}), although ` +
          (d.shortenedSegmentEndLsn !== undefined && d.shortenedSegmentEndLsn > from ? 'a preallocated segment it read was shortened' : `LSN ${d.knownDurableLsn} was known durable`),
        [],
      );
    }
  }
  // A commit whose frame ends past the first destroyed LSN is gone with it (frames may hold several).
  const excused = (e: LedgerEntry): boolean => e.lsn !== undefined && (e.frameEndLsn ?? e.lsn + 1) > endLostFrom;
  const mustKept = must.filter((e) => !excused(e));
  const changes = new Map(log.map((e) => [e, cellChanges(e, history.effects.get(e) ?? [], history.defsAfter.get(e))] as const));
  const match = matchPrefix(input.base.cells(), input.recovery.state.cells(), log, changes, mustKept);
  result.prefixLength = match.prefixLength;
  // What recovery kept: the matched prefix, or the shorter one that lost promised commits.
  const keptLength = match.prefixLength ?? match.shorterMatch;
  if (keptLength !== undefined) {
    result.keptIds = new Set(log.slice(0, keptLength).map((e) => e.id));
    result.lostIds = new Set(log.slice(keptLength).map((e) => e.id));
  }
  const countLost = (kept: ReadonlySet<LedgerEntry>): void => {
    for (const e of acked) {
      if (kept.has(e)) continue;
      if (excused(e)) {
        result.ackedLostToDamage++;
        continue;
      }
      result.ackedLost++;
      if (!mustSurvive(mode, e)) result.ackedLostAllowed++;
    }
  };
  if (match.prefixLength === undefined) {
    reportNoPrefix(match, log, changes, mustKept, add);
    // Promised commits lost: count them, so the summary's "lost" agrees with the violation.
    if (match.shorterMatch !== undefined) countLost(new Set(log.slice(0, match.shorterMatch)));
  } else {
    const kept = new Set(log.slice(0, match.prefixLength));
    countLost(kept);
    for (const e of kept) if (e.ackAtUs === undefined) result.survivedUnacked++;
    const resurrected = [...kept].filter((e) => e.outcome === 'rejected' && !e.outcomeUnknown);
    if (resurrected.length > 0) {
      add(
        'rejected-commit-recovered',
        `${resurrected.length} commit(s) of epoch ${epoch} rejected as not committed are in the recovered state (the recovered rows are the log's first ${match.prefixLength} transactions); only 08007 (outcome unknown) may survive`,
        resurrected,
      );
    }
    const snapshot = ledger.crashSnapshot(epoch);
    const crashAtUs = input.crashAtUs ?? snapshot?.atUs;
    if (mode === 'asynchronous' && crashAtUs !== undefined && input.walWriterDelayUs !== undefined) {
      const lost = acked.filter((e) => !kept.has(e) && !excused(e));
      // The ledger's state at the crash (Ledger.crashed), else as it stands (the caller has not started the next epoch).
      const flushOutstanding = snapshot !== undefined ? snapshot.placedLsn > snapshot.durableLsn : ledger.placedLsn > ledger.durableLsn;
      checkAsyncLossBound(lost, epochEntries, flushOutstanding, crashAtUs, input.walWriterDelayUs, add);
    }
  }
  return result;
}

/** Loss-window multiple of wal_writer_delay a lost commit may fall in when nothing is in flight (PostgreSQL's). */
export const ASYNC_LOSS_WINDOW_DELAYS = 3;

/**
 * Asynchronous mode's documented loss bound (docs/architecture.md, "The asynchronous loss bound"),
 * with X the crash, D = wal_writer_delay and B = ASYNC_BACK_PRESSURE_DELAYS x D: an acknowledged commit
 * c lost at the crash was acknowledged at most 3 x D before X, or else (a flush in flight, or failed)
 * a round of redo was placed and not durable at X, and no commit called more than B after c's
 * acknowledgement was acknowledged before X (back-pressure: acknowledgements never outrun a stalled
 * flush by more than B).
 */
function checkAsyncLossBound(
  lost: LedgerEntry[],
  epochEntries: LedgerEntry[],
  flushOutstanding: boolean,
  crashAtUs: number,
  delayUs: number,
  add: (kind: ViolationKind, message: string, entries: LedgerEntry[]) => void,
): void {
  const windowUs = ASYNC_LOSS_WINDOW_DELAYS * delayUs;
  const backPressureUs = ASYNC_BACK_PRESSURE_DELAYS * delayUs;
  const acks = epochEntries.filter((e) => e.ackAtUs !== undefined && e.commitCalledAtUs !== undefined && e.ackAtUs <= crashAtUs);
  for (const c of lost) {
    if (crashAtUs - c.ackAtUs! <= windowUs) continue;
    const outran = acks.find((d) => d.commitCalledAtUs! > c.ackAtUs! + backPressureUs);
    if (flushOutstanding && outran === undefined) continue;
    const why = !flushOutstanding
      ? `no flush was in flight at the crash, so the background writer should have flushed it within ${windowUs}us`
      : `tx#${outran!.id}, called ${Math.round(outran!.commitCalledAtUs! - c.ackAtUs!)}us after it, was acknowledged although ${backPressureUs}us of back-pressure should have held it`;
    add(
      'async-loss-bound-exceeded',
      `tx#${c.id} was acknowledged ${Math.round(crashAtUs - c.ackAtUs!)}us before the crash at ${Math.round(crashAtUs)}us and lost, more than ${ASYNC_LOSS_WINDOW_DELAYS} x wal_writer_delay (${windowUs}us): ${why}`,
      outran ? [c, outran] : [c],
    );
    return;
  }
}

/** Recovery threw: fine only as a corruption report (RC_PANIC, XX001) when a bit flipped in the WAL. */
function checkRecoveryError(
  error: unknown,
  damage: readonly Damage[],
  result: CrashCheckResult,
  add: (kind: ViolationKind, message: string, entries: LedgerEntry[]) => void,
): void {
  const corruption = isMotError(error) && error.rc === 'RC_PANIC' && error.sqlstate === 'XX001';
  if (!corruption) {
    add('recovery-failed', `recovery failed: ${describe(error)}`, []);
    return;
  }
  result.corruptionReported = true;
  if (!damage.some(reportAllowed)) {
    add('false-corruption-report', `recovery reported corruption although no durable byte was damaged (only unflushed writes were lost or torn): ${describe(error)}`, []);
  }
}

/** A bit flip in a WAL file, or end damage that destroyed durable bytes: recovery may report corruption. */
function reportAllowed(d: Damage): boolean {
  return d.firstLostLsn === undefined || d.destroyedDurable === true;
}

/**
 * End damage recovery must report, by the documented rules: the destroyed range from where replay
 * starts reaches below an LSN a witness says was durable, or a preallocated segment recovery reads
 * was shortened. Otherwise it cannot be told from a crash's torn tail, and its loss is allowed.
 */
export function endDamageMustBeReported(d: Damage, replayedFromLsn: number): boolean {
  if (d.firstLostLsn === undefined) return false;
  if (d.knownDurableLsn !== undefined && Math.max(d.firstLostLsn, replayedFromLsn) < d.knownDurableLsn) return true;
  return d.shortenedSegmentEndLsn !== undefined && d.shortenedSegmentEndLsn > replayedFromLsn;
}

/** No commit issued after the WAL failed with EIO may be acknowledged (read-only until reopened; disk full may resume). */
function checkAfterWalFailure(ledger: Ledger, entries: LedgerEntry[], add: (kind: ViolationKind, message: string, entries: LedgerEntry[]) => void): void {
  const failedAt = ledger.walFailedAtUs;
  if (failedAt === undefined) return;
  const late = entries.filter((e) => e.ackAtUs !== undefined && e.commitCalledAtUs !== undefined && e.commitCalledAtUs > failedAt);
  if (late.length > 0) {
    add('acknowledged-after-wal-failure', `${late.length} commit(s) issued after the WAL failed at ${Math.round(failedAt)}us were acknowledged`, late);
  }
}

interface PrefixMatch {
  /** Smallest k >= kMin whose state equals the recovered rows. */
  prefixLength: number | undefined;
  /** Largest k < kMin whose state equals the recovered rows (acknowledged commits lost). */
  shorterMatch: number | undefined;
  kMin: number;
  /** Cells that differ at the closest k >= kMin, with recovered and expected values. */
  diff: { cell: string; recovered: string | undefined; expected: string | undefined }[];
  recovered: ReadonlyMap<string, string>;
}

/** What one logged entry does to the cells of ModelDb.cells(): rows set or removed, tables created, emptied, dropped or redefined. */
type CellChange = { cell: string; value: string | null } | { clearTable: string; drop: boolean };

/** `defAfter`: for CREATE/DROP INDEX, the table's definition after it (HistoryCheck.defsAfter). */
function cellChanges(e: LedgerEntry, effects: readonly RowEffect[], defAfter: string | undefined): CellChange[] {
  const d = e.ddl;
  if (d === undefined) return effects.map((x) => ({ cell: rowCell(x.table, x.key), value: x.row === null ? null : rowText(x.row) }));
  if (d.ddl === 'create') return [{ clearTable: d.table, drop: true }, { cell: tableCell(d.table), value: defText(d.def) }];
  if (d.ddl === 'create-index' || d.ddl === 'drop-index') return defAfter === undefined ? [] : [{ cell: tableCell(d.table), value: defAfter }];
  return [{ clearTable: d.table, drop: d.ddl === 'drop' }];
}

/** The table a cell belongs to (its rows share the prefix `R "<table>" `). */
function rowCellPrefix(table: string): string {
  return rowCell(table, '');
}

/**
 * Apply the log order to `base` one transaction at a time, keeping the count of cells that differ
 * from the recovered state: O(total changes + cells), plus the cells of each table a DDL empties.
 */
function matchPrefix(
  base: ReadonlyMap<string, string>,
  recovered: ReadonlyMap<string, string>,
  log: LedgerEntry[],
  changes: ReadonlyMap<LedgerEntry, CellChange[]>,
  must: LedgerEntry[],
): PrefixMatch {
  const position = new Map(log.map((e, i) => [e, i] as const));
  let kMin = 0;
  for (const e of must) {
    const i = position.get(e);
    if (i !== undefined) kMin = Math.max(kMin, i + 1);
  }
  const state = new Map(base);
  let mismatched = 0;
  for (const cell of new Set([...state.keys(), ...recovered.keys()])) if (state.get(cell) !== recovered.get(cell)) mismatched++;
  const set = (cell: string, value: string | undefined): void => {
    const before = state.get(cell) === recovered.get(cell);
    if (value === undefined) state.delete(cell);
    else state.set(cell, value);
    const after = state.get(cell) === recovered.get(cell);
    if (before && !after) mismatched++;
    else if (!before && after) mismatched--;
  };
  let shorterMatch: number | undefined;
  let best = { k: -1, mismatched: Number.POSITIVE_INFINITY, diff: [] as PrefixMatch['diff'] };
  // Bounded by the log length (+1).
  for (let k = 0; k <= log.length; k++) {
    if (mismatched === 0) {
      if (k >= kMin) return { prefixLength: k, shorterMatch, kMin, diff: [], recovered };
      shorterMatch = k;
    } else if (k >= kMin && mismatched < best.mismatched) {
      best = { k, mismatched, diff: [] };
      for (const cell of new Set([...state.keys(), ...recovered.keys()])) {
        if (state.get(cell) !== recovered.get(cell) && best.diff.length < 3) best.diff.push({ cell, recovered: recovered.get(cell), expected: state.get(cell) });
      }
    }
    if (k === log.length) break;
    for (const c of changes.get(log[k]!) ?? []) {
      if ('cell' in c) {
        set(c.cell, c.value ?? undefined);
        continue;
      }
      const prefix = rowCellPrefix(c.clearTable);
      for (const cell of [...state.keys()]) if (cell.startsWith(prefix)) set(cell, undefined);
      if (c.drop) set(tableCell(c.clearTable), undefined);
    }
  }
  return { prefixLength: undefined, shorterMatch, kMin, diff: best.diff, recovered };
}

function reportNoPrefix(
  match: PrefixMatch,
  log: LedgerEntry[],
  changes: ReadonlyMap<LedgerEntry, CellChange[]>,
  must: LedgerEntry[],
  add: (kind: ViolationKind, message: string, entries: LedgerEntry[]) => void,
): void {
  if (match.shorterMatch !== undefined) {
    const k = match.shorterMatch;
    const lost = must.filter((e) => log.indexOf(e) >= k);
    add(
      'acknowledged-commit-lost',
      `recovery kept the first ${k} of ${log.length} logged transactions, but ${lost.length} commit(s) after them were promised durable`,
      [...lost.slice(0, 3), ...(k > 0 ? [log[k - 1]!] : [])],
    );
    return;
  }
  const involved = new Set<LedgerEntry>();
  const lines = match.diff.map(({ cell, recovered, expected }) => {
    for (const e of log) if ((changes.get(e) ?? []).some((c) => 'cell' in c && c.cell === cell)) involved.add(e);
    return `${cell}: recovered ${recovered ?? 'nothing'}, expected ${expected ?? 'nothing'}`;
  });
  const partial = partlyVisible(log, changes, match.recovered);
  if (partial) involved.add(partial.entry);
  const hint = partial ? `; tx#${partial.entry.id} is partly visible (${partial.visible} of ${partial.puts} rows)` : '';
  add(
    'not-a-log-prefix',
    `the recovered rows are not the state after any prefix of the log order that keeps the ${must.length} promised commit(s) (closest: ${lines.join('; ')})${hint}`,
    [...involved].slice(-ENTRIES_SHOWN_MAX),
  );
}

/** A transaction some but not all of whose rows are visible, none overwritten by a later one. */
function partlyVisible(
  log: LedgerEntry[],
  changes: ReadonlyMap<LedgerEntry, CellChange[]>,
  recovered: ReadonlyMap<string, string>,
): { entry: LedgerEntry; visible: number; puts: number } | undefined {
  const lastWriter = new Map<string, LedgerEntry>();
  for (const e of log) for (const c of changes.get(e) ?? []) if ('cell' in c) lastWriter.set(c.cell, e);
  for (const e of log) {
    const puts = (changes.get(e) ?? []).filter((c): c is { cell: string; value: string } => 'cell' in c && c.value !== null && lastWriter.get(c.cell) === e);
    const visible = puts.filter((c) => recovered.get(c.cell) === c.value).length;
    if (visible > 0 && visible < puts.length) return { entry: e, visible, puts: puts.length };
  }
  return undefined;
}


function describe(e: unknown): string {
  if (isMotError(e)) return e.toLine();
  return e instanceof Error ? e.message : String(e);
}

/**
 * Locate bit flips (from the disk's fault log, or injected directly) in the log: a flip inside the
 * CRC-covered bytes of a frame below the ledger's durable LSN must be reported by recovery.
 */
export function locateBitFlips(records: readonly FaultRecord[], ledger: Ledger, walDir: string, segmentBytes: number): Damage[] {
  const out: Damage[] = [];
  for (const r of records) {
    if (r.kind !== 'bitFlip') continue;
    const m = /of byte (\d+)/.exec(r.detail);
    const fileOffset = m ? Number(m[1]) : -1;
    const lsn = walLsnOf(r.path, fileOffset, walDir, segmentBytes);
    const inside =
      lsn !== undefined &&
      ledger.frames.some((f) => lsn >= f.lsn && lsn < f.lsn + FRAME_HEADER_BYTES + f.payloadBytes && f.lsn + FRAME_HEADER_BYTES + f.payloadBytes <= ledger.durableLsn);
    out.push({ path: r.path, fileOffset, lsn, insideDurableFrame: inside, detail: r.detail });
  }
  return out;
}

function walLsnOf(path: string, fileOffset: number, walDir: string, segmentBytes: number): number | undefined {
  if (fileOffset < 0 || !path.startsWith(`${walDir}/`)) return undefined;
  const first = parseSegmentFileName(path.slice(walDir.length + 1));
  return first === undefined || first % segmentBytes !== 0 ? undefined : first + fileOffset;
}
