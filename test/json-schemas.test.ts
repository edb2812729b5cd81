// docs/json-schemas.md: the JSON files `motsim bench --json` and `motsim simulate --json` write
// validate against docs/schemas/bench-result.schema.json (ajv, draft 2020-12, strict). The schema is
// closed, so a field added to the output without the schema fails here. crash-test's schema is
// checked in test/crash-test-report.test.ts. Runs the built CLI (`npm run build` first); the runs are
// short and nothing here depends on the machine's speed.

import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';

const ROOT = resolve(import.meta.dirname, '..');
const scratch = fs.mkdtempSync(join(os.tmpdir(), 'motsim-json-schemas-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function schema(name: string): object {
  return JSON.parse(fs.readFileSync(join(ROOT, 'docs', 'schemas', name), 'utf8')) as object;
}

function errorsOf(schemaName: string, json: unknown): string {
  const validate = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema(schemaName));
  return validate(json) ? '' : JSON.stringify(validate.errors, null, 1).slice(0, 4000);
}

function motsim(args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'motsim.js'), ...args], { cwd: scratch, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, out: `${String(r.stdout)}\n${String(r.stderr)}` };
}

describe('bench-result.schema.json', () => {
  it('every schema in docs/schemas compiles in strict mode', () => {
    for (const name of fs.readdirSync(join(ROOT, 'docs', 'schemas'))) {
      expect(() => new Ajv2020({ strict: true, allowUnionTypes: true }).compile(schema(name)), name).not.toThrow();
    }
  });

  it('motsim simulate --json (virtual time, seed 1) validates, with its simulation member', () => {
    const file = join(scratch, 'simulate.json');
    const args = ['simulate', '--mode', 'group,asynchronous', '--workload', 'insert', '--sessions', '4', '--duration-ms', '100', '--ceiling-ms', '100', '--seed', '1', '--json', file];
    const r = motsim(args);
    expect(r.status, `motsim ${args.join(' ')}\n${r.out}`).toBe(0);
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { runs: unknown[]; simulation?: unknown };
    expect(errorsOf('bench-result.schema.json', json)).toBe('');
    expect(json.runs).toHaveLength(2);
    expect(json.simulation).toBeDefined();
  });

  it('motsim bench --json (a short real-disk run) validates', () => {
    const file = join(scratch, 'bench.json');
    const args = ['bench', '--mode', 'group', '--workload', 'insert', '--sessions', '2', '--duration-ms', '100', '--ceiling-ms', '100', '--no-report', '--json', file];
    const r = motsim(args);
    expect(r.status, `motsim ${args.join(' ')}\n${r.out}`).toBe(0);
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { runs: { verify: unknown }[] };
    expect(errorsOf('bench-result.schema.json', json)).toBe('');
    expect(json.runs[0]!.verify).not.toBeNull();
  });
});
