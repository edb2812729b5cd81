// crashRecoveryProperty(): one scenario (a workload as data, a configuration, a machine, a fault plan,
// a crash point) played on the simulated engine, crashed, recovered and judged by the oracle. The
// predicate throws CrashRecoveryViolation, so fast-check shrinks the scenario to a minimal one.

import type { CrashTestMode } from '../sim/crash-test.js';
import { CrashHarness, CrashRecoveryViolation, type HarnessViolation } from './harness.js';
import { isDdlStep, type WorkloadSpec, type WorkloadStep } from './workload.js';
import type { Scenario } from './scenario.js';

/** Virtual time commits get to finish when the workload ends before its crash point (a flush on hdd takes ~20 ms). */
export const SETTLE_US = 50_000;

export interface ScenarioResult {
  scenario: Scenario;
  mode: CrashTestMode;
  violations: readonly HarnessViolation[];
  /** Virtual time of the crash, µs after the workload started. */
  crashAtUs: number;
  /** Acknowledged writing transactions: virtual µs from commit() to the answer, in commit order. */
  commitLatenciesUs: number[];
  /** Transactions by outcome (DDL included). */
  outcomes: Record<'acked' | 'rejected' | 'rolled-back' | 'unanswered', number>;
}

/** Run one scenario: the workload until the crash point, crash, recover, check. Never throws for a violation (see `violations`). */
export async function runScenario(s: Scenario): Promise<ScenarioResult> {
  const h = await CrashHarness.start({ mode: s.mode, seed: s.seed, schema: s.workload.schema, config: s.config, machine: s.machine });
  for (const f of s.faults) h.injectFault(f.fault, f.probability);
  const startUs = h.nowUs;
  let done = false;
  void runWorkload(h, s.workload).then(() => (done = true));
  let crashAtUs: number;
  if (s.crash.kind === 'operation') {
    const world = h.world;
    const at = world.disk.operationCount + s.crash.index;
    world.disk.onOperation((op) => {
      if (op.index === at && h.world === world) h.crash();
    });
    await h.runUntil(() => done);
    if (!done && !h.down) h.note('simulation-hang', `the workload made no progress in virtual time at ${Math.round(h.nowUs - startUs)}us: ${h.world.scheduler.pendingWaits().join('; ') || 'no events left'}`);
    if (!h.down) await h.advance(SETTLE_US);
  } else {
    const at = startUs + s.crash.atUs;
    await h.runUntil(() => done, at);
    if (!done && !h.down && h.nowUs < at) h.note('simulation-hang', `the workload made no progress in virtual time at ${Math.round(h.nowUs - startUs)}us: ${h.world.scheduler.pendingWaits().join('; ') || 'no events left'}`);
    if (!h.down && h.nowUs < at) await h.advance(at - h.nowUs);
  }
  crashAtUs = h.nowUs - startUs;
  h.crash();
  await h.finish();
  const outcomes = { acked: 0, rejected: 0, 'rolled-back': 0, unanswered: 0 };
  for (const e of h.ledger.entries) {
    if (e.outcome === 'acked' || e.outcome === 'rejected' || e.outcome === 'rolled-back') outcomes[e.outcome]++;
    else outcomes.unanswered++;
  }
  return { scenario: s, mode: s.mode, violations: h.violations, crashAtUs, commitLatenciesUs: h.commitLatenciesUs(), outcomes };
}

/** Play a workload on the harness: each session runs its steps in order, sessions at once; returns at a crash. */
export async function runWorkload(h: CrashHarness, w: WorkloadSpec): Promise<void> {
  const bySession = new Map<number, WorkloadStep[]>();
  for (const step of w.steps) {
    const i = step.session % h.sessionsCount;
    bySession.set(i, [...(bySession.get(i) ?? []), step]);
  }
  await Promise.all([...bySession.values()].map((steps) => runSession(h, steps)));
}

async function runSession(h: CrashHarness, steps: readonly WorkloadStep[]): Promise<void> {
  const clock = h.world.clock;
  for (const step of steps) {
    await clock.sleepUs(step.thinkUs);
    if (h.down || h.ended) return;
    if (isDdlStep(step)) {
      await h.ddl(step.ddl);
      continue;
    }
    if (h.begin(step.session) === undefined) return;
    let alive = true;
    for (const op of step.ops) {
      if (op.kind === 'pause') {
        await clock.sleepUs(op.us);
        if (h.down) return;
      } else if (!h.operate(step.session, op)) {
        alive = false; // the engine ended the transaction (40001, a table gone): it was rolled back
        break;
      }
    }
    if (!alive) continue;
    if (step.end === 'abort') h.abort(step.session);
    else await h.commit(step.session);
  }
}

export interface CrashRecoveryPropertyOptions {
  /** Further checks on a run the oracle passed (e.g. a latency bound); throw or return false to fail. */
  check?: (result: ScenarioResult) => void | boolean | Promise<void | boolean>;
}

/**
 * The predicate for `fc.asyncProperty(scenarioArbitrary(...), crashRecoveryProperty())`: runs the
 * scenario and throws CrashRecoveryViolation when the oracle finds anything, or the check fails.
 */
export function crashRecoveryProperty(options: CrashRecoveryPropertyOptions = {}): (scenario: Scenario) => Promise<boolean> {
  return async (scenario) => {
    const result = await runScenario(scenario);
    if (result.violations.length > 0) throw new CrashRecoveryViolation(result.violations);
    if (options.check) return (await options.check(result)) !== false;
    return true;
  };
}

/** The p-th percentile (0..100) of `values` by the nearest-rank method; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
