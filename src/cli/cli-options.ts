// Option parsers and the workload options shared by `motsim bench` (real disk) and `motsim simulate`
// (virtual time): one definition, so the two commands accept and mean the same flags.

import { InvalidArgumentError, type Command } from 'commander';
import type { BenchMode } from '../bench/bench-suite.js';
import { WORKLOADS, type WorkloadName } from '../bench/workloads.js';

export const MODES: readonly BenchMode[] = ['synchronous', 'group', 'asynchronous', 'off'];

/**
 * An integer option within [min, max], written in decimal digits (an optional "-"): "", " 5", "0x10",
 * "1e3" and "5.0" are refused rather than read as 0, 5, 16 or 1000. The error names the option.
 */
export function int(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a decimal integer from ${min} to ${max} (got "${v}")`);
    }
    return n;
  };
}

/** A decimal number option within [min, max] (digits, an optional fraction): no "", hex or exponent. */
export function decimal(name: string, min: number, max: number, minExclusive = false) {
  return (v: string): number => {
    const n = Number(v);
    const inRange = (minExclusive ? n > min : n >= min) && n <= max;
    if (!/^-?(\d+(\.\d*)?|\.\d+)$/.test(v) || !Number.isFinite(n) || !inRange) {
      const range = minExclusive ? `greater than ${min} and at most ${max}` : `from ${min} to ${max}`;
      throw new InvalidArgumentError(`${name} must be a decimal number ${range} (got "${v}")`);
    }
    return n;
  };
}

/** A comma-separated list of allowed values; the error names the option, the values and the bad one. */
export function oneOf<T extends string>(name: string, values: readonly T[]) {
  return (v: string): T[] => {
    const parts = v.split(',').map((s) => s.trim()) as T[];
    for (const p of parts) if (!values.includes(p)) throw new InvalidArgumentError(`${name} must be one of ${values.join(', ')} (got "${p}")`);
    return parts;
  };
}

/** The run-shape options both benchmark commands take (durations are described by each command). */
export function addWorkloadOptions(cmd: Command): Command {
  return cmd
    .option('--sessions <n>', 'sessions (clients) per run (default: 1 and 64 for sync and group, 64 for async)', int('--sessions', 1, 10_000))
    .option('--mode <modes>', `logging modes to run, comma-separated: ${MODES.join(', ')}`, oneOf('--mode', MODES))
    .option('--workload <names>', `workloads, comma-separated: ${WORKLOADS.join(', ')}`, oneOf('--workload', WORKLOADS))
    .option('--group-size <n>', 'group_commit_size', int('--group-size', 2, 1000), 16)
    .option('--group-timeout-us <us>', 'group_commit_timeout in microseconds', int('--group-timeout-us', 100, 200_000), 10_000)
    .option('--wal-writer-delay-ms <ms>', 'wal_writer_delay (async flush interval) in milliseconds', int('--wal-writer-delay-ms', 1, 10_000), 200)
    .option('--preload-rows <n>', 'rows loaded before the update-mix workload', int('--preload-rows', 1, 10_000_000), 10_000)
    .option('--no-verify', 'skip reopening each run to check that every acknowledged commit is there')
    .option('--json <file>', 'also write the figures as JSON to this file');
}

export interface WorkloadOptions {
  sessions: number | undefined;
  modes: BenchMode[] | undefined;
  workloads: WorkloadName[] | undefined;
  groupCommitSize: number;
  groupCommitTimeoutUs: number;
  walWriterDelayMs: number;
  preloadRows: number;
  verify: boolean;
}

/** The parsed values of addWorkloadOptions, in the shape runBenchSuite and simulateSuite take. */
export function workloadOptionsFrom(o: Record<string, unknown>): WorkloadOptions {
  return {
    sessions: o.sessions as number | undefined,
    modes: o.mode as BenchMode[] | undefined,
    workloads: o.workload as WorkloadName[] | undefined,
    groupCommitSize: o.groupSize as number,
    groupCommitTimeoutUs: o.groupTimeoutUs as number,
    walWriterDelayMs: o.walWriterDelayMs as number,
    preloadRows: o.preloadRows as number,
    verify: o.verify as boolean,
  };
}
