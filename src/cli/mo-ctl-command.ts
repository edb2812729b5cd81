// `motsim mo-ctl DIR flush_table DB TABLE | increment_checkpoint | global_checkpoint`: a control call (src/admin/mo-ctl.ts) from the command
// line, as the `sys` account; prints MatrixOne's result shape as JSON.

import type { Command } from 'commander';
import { Engine } from '../engine.js';
import { moCtl, moCtlCallFromCli, type MoCtlCall } from '../admin/mo-ctl.js';
import { UsageError } from './cli-errors.js';

export function addMoCtlCommand(program: Command): void {
  program
    .command('mo-ctl')
    .description("Run a mo_ctl control call on a data directory as the sys account and print its result, e.g. `motsim mo-ctl DIR flush_table postgres t` -> {\"method\":\"Flush\",\"result\":[{\"returnStr\":\"OK\"}]}. Calls: flush_table DB TABLE, increment_checkpoint, global_checkpoint.")
    .argument('<dir>', 'data directory (must exist; refused while another engine has it open)')
    .argument('<call>', 'the control call: flush_table | increment_checkpoint | global_checkpoint')
    .argument('[args...]', 'its arguments (flush_table: DATABASE TABLE)')
    .option('--account <name>', 'log in to this account (default: sys; any other is refused)')
    .option('--conf <file>', 'mot.conf to use')
    .action(async (dir: string, call: string, args: string[], o: { account?: string; conf?: string }) => {
      let parsed: MoCtlCall;
      try {
        parsed = moCtlCallFromCli(call, args);
      } catch (e) {
        throw new UsageError('motsim mo-ctl', (e as Error).message);
      }
      const engine = await Engine.open(dir, { create: false, ...(o.conf ? { confFile: o.conf } : {}) });
      try {
        const login = engine.accounts.login(o.account, undefined);
        const result = await moCtl(engine, login, parsed);
        process.stdout.write(JSON.stringify(result) + '\n');
      } finally {
        await engine.close();
      }
    });
}
