// Failures that say how to replay them: fast-check's report (counterexample, shrink count, seed and
// path) plus one replay line; for fc.commands also the replayPath, without which the same seed and
// path may not rebuild the same command list.

import fc from 'fast-check';

/** What replays a failing run: fc.assert(..., { seed, path }) and, for commands, crashRecoveryCommands({ replayPath }). */
export interface Replay {
  seed: number;
  path: string;
  replayPath?: string;
}

/** The replay of a failed run (undefined if it passed). */
export function replayOf<Ts>(details: fc.RunDetails<Ts>): Replay | undefined {
  if (!details.failed) return undefined;
  const replayPath = /replayPath="([^"]*)"/.exec(fc.stringify(details.counterexample))?.[1];
  return { seed: details.seed, path: details.counterexamplePath ?? '', ...(replayPath !== undefined ? { replayPath } : {}) };
}

/** The replay as code to paste: the fc.assert parameters and, for commands, the replayPath option. */
export function formatReplay(r: Replay): string {
  const params = `{ seed: ${r.seed}, path: ${JSON.stringify(r.path)} }`;
  return r.replayPath === undefined ? `fc.assert(property, ${params})` : `fc.assert(property, ${params}) with crashRecoveryCommands({ ..., replayPath: ${JSON.stringify(r.replayPath)} })`;
}

export interface ReporterOptions {
  /** A line of your own that replays the run (e.g. an npm command with environment variables). */
  replayCommand?: (r: Replay) => string;
}

/**
 * A reporter for fc.assert: on failure, throws an Error with fast-check's report, the failure's
 * message (the oracle's violations) and the replay line(s).
 */
export function crashRecoveryReporter<Ts>(options: ReporterOptions = {}): (details: fc.RunDetails<Ts>) => void {
  return (details) => {
    const r = replayOf(details);
    if (r === undefined) return;
    const lines = [fc.defaultReportMessage(details), `replay: ${formatReplay(r)}`];
    if (options.replayCommand) lines.push(`replay: ${options.replayCommand(r)}`);
    const error = new Error(lines.join('\n'));
    if (details.errorInstance !== undefined) (error as Error & { cause?: unknown }).cause = details.errorInstance;
    throw error;
  };
}
