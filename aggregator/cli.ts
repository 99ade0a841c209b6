/**
 * `aegis aggregator …` subcommands: start, keys create, rounds, check-config. A failure prints
 * one line, `error (<code>): <what>; <fix>`, and exits 1 (`runtime/cli-action.ts`).
 */
import type { Command } from 'commander';
import { exitWith } from '../runtime/cli-action.ts';
import { plainWhenPiped } from '../runtime/cli-table.ts';
import type { PasswordSource } from './keys.ts';

// Each action imports what it needs when it runs: `aegis --help` and every other command start
// without loading ethers, SQLite or the crypto libraries they do not use.

function passwordSource(o: { passwordFile?: string; passwordEnv?: string }): PasswordSource {
  if (o.passwordFile) return { file: o.passwordFile };
  if (o.passwordEnv) return { env: o.passwordEnv };
  throw new Error('give --password-file <file> or --password-env <VAR> (never the password itself on the command line)');
}

export function registerAggregatorCommands(program: Command): void {
  const agg = program.command('aggregator').description('collect observations, combine threshold signatures, post reports, serve them');

  agg
    .command('start')
    .description('run an aggregator until SIGINT/SIGTERM')
    .requiredOption('-c, --config <file>', 'aggregator YAML config')
    .action(async (o: { config: string }) => {
      const { startAggregator } = await import('./start.ts');
      let running;
      try {
        running = await startAggregator(o.config, { processMetrics: true });
      } catch (err) {
        exitWith(err);
      }
      const shutdown = async (sig: string): Promise<void> => {
        running.logger.info({ signal: sig }, 'shutting down');
        await running.stop();
        process.exit(0);
      };
      process.once('SIGINT', () => void shutdown('SIGINT'));
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
    });

  agg
    .command('keys')
    .description('aggregator key files')
    .command('create')
    .description('create an identity key (Ed25519, EIP-2335) and a transmitter key (secp256k1, Web3 Secret Storage)')
    .requiredOption('--identity <file>', 'identity keystore to create')
    .requiredOption('--transmitter <file>', 'transmitter keystore to create')
    .option('--password-file <file>', 'read the password from this file')
    .option('--password-env <VAR>', 'read the password from this environment variable')
    .option('--import-transmitter-key-env <VAR>', 'encrypt this existing EVM private key instead of a new one')
    .option('--fast-kdf', 'cheap scrypt (tests and demos only)')
    .action(async (o: { identity: string; transmitter: string; passwordFile?: string; passwordEnv?: string; importTransmitterKeyEnv?: string; fastKdf?: boolean }) => {
      try {
        const { createIdentityKey, createTransmitterKey, readPassword } = await import('./keys.ts');
        const pw = readPassword(passwordSource(o));
        const id = await createIdentityKey(o.identity, pw, { fast: !!o.fastKdf });
        const pk = o.importTransmitterKeyEnv ? process.env[o.importTransmitterKeyEnv] : undefined;
        if (o.importTransmitterKeyEnv && !pk) throw new Error(`environment variable ${o.importTransmitterKeyEnv} is not set`);
        const tx = await createTransmitterKey(o.transmitter, pw, { fast: !!o.fastKdf, ...(pk ? { privateKey: pk } : {}) });
        process.stdout.write(`${JSON.stringify({ identityKey: id.publicKey, transmitter: tx.address }, null, 2)}\n`);
        process.stdout.write('add identityKey under "aggregators" in the committee file; fund the transmitter address\n');
      } catch (err) {
        exitWith(err);
      }
    });

  agg
    .command('check-config')
    .description('validate a config and its committee file, then ask the chain: chain id, hub code, committee digest, feeds, transmitter balance')
    .requiredOption('-c, --config <file>', 'aggregator YAML config')
    .option('--offline', 'check the files only, do not ask the chain')
    .option('--json', 'print the checks as JSON')
    .action(async (o: { config: string; offline?: boolean; json?: boolean }) => {
      try {
        const { loadConfig } = await import('./config.ts');
        const { preflight } = await import('./preflight.ts');
        const l = loadConfig(o.config);
        const files = { name: 'files', ok: true, detail: `${l.committee.nodes.length} nodes, t=${l.committee.t}, hub ${l.hub}, feeds ${l.config.feeds.map((f) => f.name).join(', ')}` };
        const checks = [files, ...l.warnings.map((w) => ({ name: 'spelling', ok: true, detail: w })), ...(o.offline ? [] : await preflight(l))];
        if (o.json) process.stdout.write(`${JSON.stringify({ ok: checks.every((c) => c.ok), checks }, null, 2)}\n`);
        else for (const c of checks) process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}\n`);
        if (!checks.every((c) => c.ok)) process.exit(1);
      } catch (err) {
        exitWith(err);
      }
    });

  agg
    .command('rounds')
    .description('print recorded rounds from the aggregator database')
    .requiredOption('-c, --config <file>', 'aggregator YAML config')
    .option('-n, --limit <n>', 'rounds to show', '20')
    .option('--json', 'JSON instead of a table')
    .action(async (o: { config: string; limit: string; json?: boolean }) => {
      try {
        const { loadConfig } = await import('./config.ts');
        const { RoundStore } = await import('./store.ts');
        const { default: Table } = await import('cli-table3');
        const l = loadConfig(o.config);
        const store = new RoundStore(l.config.db);
        const rows = store.recent(Number(o.limit));
        store.close();
        if (o.json) {
          process.stdout.write(`${JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
          return;
        }
        // No colour codes when piped into a file or another program.
        const t = new Table({ head: ['epoch', 'status', 'observed', 'signed', 'excluded', 'reason', 'tx', 'gas'], ...plainWhenPiped() });
        for (const r of rows) {
          t.push([
            r.epoch.toString(),
            r.failureCode ?? r.status,
            r.participants.observed.join(','),
            r.participants.signed.join(','),
            r.excluded.map((e) => `${e.index}:${e.code}`).join(' '),
            r.postingReason ?? '',
            r.txStatus ? `${r.txStatus} ${r.txHash?.slice(0, 10) ?? ''}` : '',
            r.gasUsed?.toString() ?? '',
          ]);
        }
        process.stdout.write(`${t.toString()}\n`);
      } catch (err) {
        exitWith(err);
      }
    });
}
