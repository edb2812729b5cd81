// `motsim mo-ctl DIR flush_table DB TABLE`: a control call (src/admin/mo-ctl.ts) from the command
// line, as the `sys` account; prints MatrixOne's result shape as JSON.

import type { Command } from 'commander';
import { Engine } from '../engine.js';
import { moCtl } from '../admin/mo-ctl.js';
import { Errors } from '../errors.js';

export function addMoCtlCommand(program: Command): void {
  program
    .command('mo-ctl')
    .description("Run a mo_ctl control call on a data directory as the sys account and print its result, e.g. `motsim mo-ctl DIR flush_table postgres t` -> {\"method\":\"Flush\",\"result\":[{\"returnStr\":\"OK\"}]}. Only flush_table exists so far.")
    .argument('<dir>', 'data directory')
    .argument('<call>', 'the control call: flush_table')
    .argument('[args...]', 'its arguments: DATABASE TABLE')
    .option('--account <name>', 'log in to this account (default: sys; any other is refused)')
    .option('--conf <file>', 'mot.conf to use')
    .action(async (dir: string, call: string, args: string[], o: { account?: string; conf?: string }) => {
      if (call !== 'flush_table' || args.length !== 2) throw Errors.invalidArgument('mo-ctl call', `expected "flush_table DATABASE TABLE", got "${[call, ...args].join(' ')}"`);
      const engine = await Engine.open(dir, o.conf ? { confFile: o.conf } : {});
      try {
        const login = engine.accounts.login(o.account, undefined);
        const result = await moCtl(engine, login, { name: 'flush_table', database: args[0]!, table: args[1]! });
        process.stdout.write(JSON.stringify(result) + '\n');
      } finally {
        await engine.close();
      }
    });
}
