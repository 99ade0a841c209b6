/**
 * `aegis hub …`: deploy and inspect hubs on a real chain (docs/launching-a-feed-network.md).
 * Every action imports what it needs when it runs; a failure prints `error (<code>): <what>;
 * <fix>` and exits 1 (`runtime/cli-action.ts`).
 */
import type { Command } from 'commander';
import { cliAction } from '../runtime/cli-action.ts';
import { plainWhenPiped } from '../runtime/cli-table.ts';

function positive(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} ${v}: expected a non-negative integer`);
    return n;
  };
}

async function providerOf(rpc: string, timeoutMs = 30_000) {
  const { FetchRequest, JsonRpcProvider } = await import('ethers');
  const req = new FetchRequest(rpc);
  req.timeout = timeoutMs;
  // No response cache: a deployment reads the same `latest` state before and after its transactions.
  const provider = new JsonRpcProvider(req, undefined, { batchMaxCount: 1, cacheTimeout: -1 });
  try {
    await provider.getNetwork();
  } catch (err) {
    provider.destroy();
    throw new Error(`--rpc ${rpc}: no answer (${(err as Error).message.split('\n')[0]}); check the URL`);
  }
  return provider;
}

export function registerHubCommands(program: Command): void {
  const hub = program.command('hub').description('deploy, inspect and govern hubs on a chain');

  hub
    .command('deploy')
    .description('deploy the hub and the adapter factory for a committee at deterministic (CREATE2) addresses, verify their code against the local build, write the hub address into the committee file')
    .requiredOption('--rpc <url>', 'JSON-RPC URL of the chain')
    .requiredOption('--committee <file>', 'committee file (configVersion 1); its "hub" is set to the deployed address')
    .option('--guardian <address>', 'guardian (default: the transaction key; a Safe or timelock for production)')
    .option('--max-future-drift <s>', 'seconds a report\'s observation time may be ahead of the block', positive('--max-future-drift'), 60)
    .option('--max-report-age <s>', 'seconds after which a signed report is no longer accepted', positive('--max-report-age'), 300)
    .option('--confirmations <n>', 'blocks to wait for after each transaction', positive('--confirmations'), 2)
    .option('--salt <hex>', 'CREATE2 salt (same salt and committee: same address on every chain)')
    .option('--deployment <name|chainId>', 'deploy the hub of this further deployment of the committee file on --rpc\'s chain: a listed one must be on that chain and at the address the file gives; one not listed is added to "deployments" (a name becomes its name)')
    .option('--keystore <file>', 'transaction key: Ethereum JSON keystore')
    .option('--password-file <file>', 'password of --keystore')
    .option('--password-env <VAR>', 'password of --keystore from the environment')
    .option('--key-env <VAR>', 'transaction key: a 0x private key in this environment variable')
    .option('--json', 'print the result as JSON')
    .action(
      cliAction(async (o: { rpc: string; committee: string; guardian?: string; maxFutureDrift: number; maxReportAge: number; confirmations: number; salt?: string; deployment?: string; keystore?: string; passwordFile?: string; passwordEnv?: string; keyEnv?: string; json?: boolean }) => {
        const { loadTxKey } = await import('./ops/tx-key.ts');
        const { deployHub } = await import('./ops/deploy-hub.ts');
        const provider = await providerOf(o.rpc);
        try {
          const signer = await loadTxKey(o, provider);
          const say = o.json ? () => undefined : (line: string) => process.stdout.write(`${line}\n`);
          if (!o.json) say('compiling the contracts with the pinned solc (cached after the first run)…');
          const r = await deployHub({
            signer,
            committeeFile: o.committee,
            confirmations: o.confirmations,
            maxFutureDriftSec: o.maxFutureDrift,
            maxReportAgeSec: o.maxReportAge,
            say,
            ...(o.guardian ? { guardian: o.guardian } : {}),
            ...(o.salt ? { salt: o.salt } : {}),
            ...(o.deployment !== undefined ? { deployment: o.deployment } : {}),
          });
          if (o.json) process.stdout.write(`${JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
          else if (r.deployment) say(`done: hub ${r.hub}, adapter factory ${r.factory}; next: aegis hub apply --config hub.yaml (this hub's), then an aggregator with chain.deployment: ${r.deployment.name ?? r.deployment.chainId}`);
          else say(`done: hub ${r.hub}, adapter factory ${r.factory}; next: aegis hub apply --config hub.yaml`);
        } finally {
          provider.destroy();
        }
      }),
    );

  hub
    .command('status')
    .description('what a hub serves and who governs it: feeds, answers, ages, breaker states and candidates, committee, guardian chain')
    .requiredOption('--rpc <url>', 'JSON-RPC URL of the chain')
    .requiredOption('--hub <address>', 'hub address')
    .option('--json', 'print JSON')
    .action(
      cliAction(async (o: { rpc: string; hub: string; json?: boolean }) => {
        const { hubStatus } = await import('./ops/status.ts');
        const { guardianLine } = await import('./ops/guardian.ts');
        const provider = await providerOf(o.rpc);
        try {
          const s = await hubStatus(provider, o.hub);
          if (o.json) {
            process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
            return;
          }
          const { default: Table } = await import('cli-table3');
          const out = (l: string) => process.stdout.write(`${l}\n`);
          out(`hub ${s.hub} on chain ${s.chainId} at block ${s.blockNumber} (${new Date(s.blockTime * 1000).toISOString()})`);
          out(`committee: version ${s.committee.configVersion}, n=${s.committee.n} t=${s.committee.t}, digest ${s.committee.configDigest}; latest epoch ${s.latestEpoch}${s.paused ? '; HUB PAUSED' : ''}`);
          out(`clock bounds: reports up to ${s.maxFutureDriftSec} s ahead, accepted up to ${s.maxReportAgeSec} s old`);
          out(`guardian: ${guardianLine(s.guardian)}`);
          const t = new Table({ head: ['feed', 'price', 'age s', 'round', 'status', 'spread bps', 'deviation bps', 'heartbeat s', 'breaker'], ...plainWhenPiped() });
          for (const f of s.feeds) {
            t.push([f.description, f.price, String(f.ageSec), String(f.roundId), f.status, String(f.spreadBps), String(f.deviationBps), String(f.heartbeatSec), f.breaker ? `candidate ${f.breaker.candidate} (${f.breaker.confirmationsSeen}/${f.breaker.confirmationsNeeded})` : '']);
          }
          out(s.feeds.length ? t.toString() : 'no feeds yet');
        } finally {
          provider.destroy();
        }
      }),
    );

  const keyOpts = (c: Command): Command =>
    c
      .option('--keystore <file>', 'transaction key: Ethereum JSON keystore')
      .option('--password-file <file>', 'password of --keystore')
      .option('--password-env <VAR>', 'password of --keystore from the environment')
      .option('--key-env <VAR>', 'transaction key: a 0x private key in this environment variable');

  hub
    .command('plan')
    .description('compare a hub on chain with its hub.yaml and print the changes apply would make (and pending timelock operations)')
    .requiredOption('--config <file>', 'hub.yaml: the desired feeds, breakers, bounds, staleness, adapters, guardian')
    .requiredOption('--rpc <url>', 'JSON-RPC URL of the chain')
    .option('--max-gas-per-tx <n>', 'gas budget of one addFeeds batch', positive('--max-gas-per-tx'), 25_000_000)
    .option('--json', 'print the plan as JSON (calls included)')
    .option('--exit-code', 'exit 2 when there are changes')
    .action(
      cliAction(async (o: { config: string; rpc: string; maxGasPerTx: number; json?: boolean; exitCode?: boolean }) => {
        const { loadHubConfig } = await import('./ops/hub-config.ts');
        const { planHub } = await import('./ops/plan.ts');
        const { describeGuardian, guardianLine } = await import('./ops/guardian.ts');
        const { pendingTimelockOperations } = await import('./ops/apply.ts');
        const desired = loadHubConfig(o.config);
        const provider = await providerOf(o.rpc);
        try {
          const plan = await planHub(provider, desired, { maxGasPerTx: o.maxGasPerTx });
          const { Contract } = await import('ethers');
          const guardian = await describeGuardian(provider, String(await new Contract(desired.hub, ['function guardian() view returns (address)'], provider).getFunction('guardian').staticCall()));
          const pending = guardian.kind === 'timelock' ? await pendingTimelockOperations(provider, guardian.address, desired.hub) : [];
          if (o.json) {
            process.stdout.write(`${JSON.stringify({ ...plan, guardian, pendingTimelockOperations: pending }, null, 2)}\n`);
          } else {
            const out = (l: string) => process.stdout.write(`${l}\n`);
            out(`hub ${desired.hub} on chain ${desired.chainId}, guardian ${guardianLine(guardian)}`);
            for (const p of pending) out(`timelock operation ${p.id}: ${p.state}${p.state === 'pending' ? `, ready at ${new Date(p.readyAt * 1000).toISOString()}` : ''} (${p.calls} call(s) to this hub)`);
            for (const w of plan.warnings) out(`warning: ${w}`);
            if (plan.changes.length === 0) out('no differences: the hub matches the file');
            else {
              for (const c of plan.changes) out(c);
              out(`${plan.changes.length} change(s) in ${plan.hubCalls.length} guardian transaction(s) and ${plan.factoryCalls.length} adapter transaction(s); aegis hub apply --config ${o.config} makes them`);
            }
          }
          if (o.exitCode && plan.changes.length) process.exit(2);
        } finally {
          provider.destroy();
        }
      }),
    );

  keyOpts(
    hub
      .command('apply')
      .description('make the hub match hub.yaml with the fewest transactions; where the guardian is a Safe or timelock, write the multisig batch instead of sending')
      .requiredOption('--config <file>', 'hub.yaml')
      .requiredOption('--rpc <url>', 'JSON-RPC URL of the chain')
      .option('--out <prefix>', 'path prefix of the files written for a Safe or timelock guardian', 'hub-apply')
      .option('--max-gas-per-tx <n>', 'gas budget of one addFeeds batch', positive('--max-gas-per-tx'), 25_000_000)
      .option('--confirmations <n>', 'blocks to wait for after each transaction', positive('--confirmations'), 1),
  ).action(
    cliAction(async (o: { config: string; rpc: string; out: string; maxGasPerTx: number; confirmations: number; keystore?: string; passwordFile?: string; passwordEnv?: string; keyEnv?: string }) => {
      const { loadHubConfig } = await import('./ops/hub-config.ts');
      const { planHub } = await import('./ops/plan.ts');
      const { applyPlan } = await import('./ops/apply.ts');
      const { loadTxKey } = await import('./ops/tx-key.ts');
      const desired = loadHubConfig(o.config);
      const provider = await providerOf(o.rpc);
      try {
        const plan = await planHub(provider, desired, { maxGasPerTx: o.maxGasPerTx });
        const out = (l: string) => process.stdout.write(`${l}\n`);
        for (const w of plan.warnings) out(`warning: ${w}`);
        if (plan.changes.length === 0) {
          out('no differences: nothing to apply');
          return;
        }
        for (const c of plan.changes) out(c);
        const signer = o.keystore || o.keyEnv ? await loadTxKey(o, provider) : undefined;
        const r = await applyPlan(provider, desired.hub, plan, { out: o.out, confirmations: o.confirmations, say: out, ...(signer ? { signer } : {}) });
        if (r.mode === 'sent') out(`applied in ${r.receipts.length} transaction(s), ${r.receipts.reduce((a, x) => a + x.gasUsed, 0n)} gas; aegis hub plan should now show no differences`);
      } finally {
        provider.destroy();
      }
    }),
  );
}
