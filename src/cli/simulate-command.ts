// `motsim simulate`: the logging-mode benchmark in virtual time on a described machine (sockets, cores
// per socket, disk preset, CPU cost per transaction), printing the same table as `motsim bench`.

import fs from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { benchJson, formatBenchTable } from '../bench/bench-suite.js';
import type { LatencyPresetName } from '../sim/latency.js';
import { simulateSuite } from '../sim/simulate.js';
import { TX_CPU_US_DEFAULT } from '../sim/cpu-model.js';
import { DISKS } from './crash-test-command.js';
import { addWorkloadOptions, decimal, int, workloadOptionsFrom } from './cli-options.js';
import { DataCheckFailed } from './cli-errors.js';

export function addSimulateCommand(program: Command): void {
  const cmd = program
    .command('simulate')
    .description(
      'Run the logging-mode benchmark in virtual time on a described machine and print the same table as `motsim bench`: ' +
        'the unchanged engine on a simulated disk (latency preset), S sockets x C cores, each transaction costing a measured CPU ' +
        `time on its session's core (default ${TX_CPU_US_DEFAULT.insert} µs insert, ${TX_CPU_US_DEFAULT['update-mix']} µs update-mix; ` +
        'sessions sharing a core take turns). Deterministic: the same seed gives the same table. --flusher and --dir of bench do not ' +
        'apply (the simulated disk has one flusher lane per socket). How its figures compare with `motsim bench`: docs/architecture.md, ' +
        '"Simulation vs. the real disk".',
    )
    .option('--disk <preset>', `disk latency preset: ${DISKS.join(', ')}`, (v: string) => {
      if (!DISKS.includes(v as LatencyPresetName)) throw new InvalidArgumentError(`--disk must be one of ${DISKS.join(', ')}`);
      return v;
    }, 'nvme')
    .option('--sockets <n>', 'simulated NUMA sockets (sessions are spread equally over them; one flusher lane each)', int('--sockets', 1, 64), 2)
    .option('--cores-per-socket <n>', 'cores per socket (sessions beyond the core count share cores)', int('--cores-per-socket', 1, 1024), 8)
    .option('--cpu-us-per-tx <us>', 'virtual CPU µs per transaction (default: measured, per workload)', decimal('--cpu-us-per-tx', 0, 1_000_000, true))
    .option('--cpu-threads <n>', 'cores that execute transactions (default: sockets x cores per socket; 1 models motsim bench, whose engine runs on one JavaScript thread)', int('--cpu-threads', 1, 65_536))
    .option('--duration-ms <ms>', 'virtual duration of each run in milliseconds', int('--duration-ms', 100, 3_600_000), 3000)
    .option('--ceiling-ms <ms>', 'virtual time to measure the simulated disk ceiling', int('--ceiling-ms', 100, 600_000), 2000)
    .option('--seed <n>', 'seed of the simulation and the workload', int('--seed', 0, 2 ** 31), 1);
  addWorkloadOptions(cmd).action(async (o) => {
      const result = await simulateSuite({
        machine: { sockets: o.sockets, coresPerSocket: o.coresPerSocket, disk: o.disk as LatencyPresetName },
        ...workloadOptionsFrom(o),
        txCpuUs: o.cpuUsPerTx,
        cpuThreads: o.cpuThreads,
        durationMs: o.durationMs,
        sockets: o.sockets,
        seed: o.seed,
        ceilingMs: o.ceilingMs,
        progress: process.stderr.isTTY,
      });
      const sim = result.simulation;
      process.stdout.write(
        `simulated machine: ${sim.sockets} sockets x ${sim.coresPerSocket} cores (${sim.cpuThreads} executing transactions), disk ${sim.disk}, ` +
          `CPU per transaction ${Object.entries(sim.txCpuUs).map(([w, us]) => `${w} ${us} µs`).join(', ')}; seed ${o.seed}\n`,
      );
      process.stdout.write(formatBenchTable(result).replace('disk ceiling (', 'simulated disk ceiling (') + '\n');
      process.stdout.write(`\nsimulated ${Math.round(sim.simulatedCommitsPerWallSecond).toLocaleString('en-US')} commits per wall-clock second (${(sim.wallMs / 1000).toFixed(1)} s)\n`);
      if (o.json) {
        fs.writeFileSync(o.json, JSON.stringify({ ...(benchJson(result) as object), simulation: sim }, null, 2) + '\n');
        process.stdout.write(`wrote ${o.json}\n`);
      }
      if (result.runs.some((r) => r.verify && !r.verify.ok)) throw new DataCheckFailed('an acknowledged commit was lost: see the "verified" column');
    });
}
