/**
 * `aegis node …` and `aegis keys …`: thin commander front-ends over `node/start.ts`,
 * `node/poller.ts` and `node/keys/`. Errors print one line (what, where, the fix) and exit 1;
 * no stack traces for operator mistakes.
 *
 *   aegis node start --config node.yaml [--host IP] [--port N] [--coordinator KEY]...
 *   aegis node check --config node.yaml [--live] [--record DIR]
 *   aegis keys create identity|share --out FILE (--password-file F | --password-env V)
 *   aegis keys import identity|share --out FILE (--secret-file F | --secret-env V) (--password-file F | --password-env V)
 *                     [share: --committee FILE --index I  |  --index I --n N --t T --group-key HEX]
 *   aegis keys inspect FILE
 */
import { readFileSync } from 'node:fs';
import Table from 'cli-table3';
import { Argument, Command, Option } from 'commander';
import { runOrExit } from '../runtime/cli-action.ts';
import { plainWhenPiped } from '../runtime/cli-table.ts';
import { errorLine } from '../runtime/coded-error.ts';
import { KeystoreError, createIdentity, createSoloBlsKey, importBlsShare, importIdentity, inspectKeystore, readPassword, type KdfChoice, type PasswordSource } from './keys/index.ts';
import { loadNodeConfig } from './config.ts';
import { NodeError } from './errors.ts';
import { SourcePoller, type Snapshot, type SourceEntry } from './poller.ts';
import { checkSources, type CheckRow } from './sources/check.ts';
import { priceFeeds } from './pricing.ts';
import { loadCommittee, startNode } from './start.ts';

/** A price as people write it: up to 8 significant decimals, no float noise (60062.96, not 60062.95999999999). */
export function priceText(p: number): string {
  if (!Number.isFinite(p)) return String(p);
  const digits = Math.abs(p) >= 1 ? 8 : Math.min(20, 8 - Math.floor(Math.log10(Math.abs(p) || 1)));
  return Number(p.toFixed(digits)).toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: digits });
}

export function registerNodeCommands(program: Command): void {
  const node = program.command('node').description('run and check an Aegis oracle node');

  node
    .command('start')
    .description('start the node: poll sources, serve /v1/observe, /v1/sign, /v1/health, /v1/status, /metrics')
    .requiredOption('-c, --config <file>', 'node YAML config')
    .option('--host <ip>', 'override listen.host (an IP address; 0.0.0.0 for every interface)')
    .option('-p, --port <port>', 'override listen.port', parsePort)
    .option('--coordinator <key>', 'allow this DKG coordinator Ed25519 key (0x-hex) besides the config\'s dkg.coordinators; repeatable; never an aggregator key', (v: string, prev: string[] = []) => [...prev, v])
    .action(async (opts: { config: string; host?: string; port?: number; coordinator?: string[] }) => {
      await run(async () => {
        const running = await startNode(opts.config, {
          processMetrics: true,
          ...(opts.host !== undefined ? { host: opts.host } : {}),
          ...(opts.port !== undefined ? { port: opts.port } : {}),
          ...(opts.coordinator ? { dkgCoordinators: opts.coordinator } : {}),
        });
        const shutdown = (signal: string) => {
          running.logger.info({ action: 'stop', signal }, `received ${signal}, stopping`);
          running.stop().then(
            () => process.exit(0),
            (err: unknown) => {
              running.logger.error({ action: 'stop', err: String(err) }, 'stop failed');
              process.exit(1);
            },
          );
        };
        process.once('SIGINT', () => shutdown('SIGINT'));
        process.once('SIGTERM', () => shutdown('SIGTERM'));
      });
    });

  node
    .command('check')
    .description('fetch every configured source once and print a table (source, feed, price, age, status)')
    .requiredOption('-c, --config <file>', 'node YAML config')
    .option('--live', 'ask every venue at its public URL, ignoring base URL overrides in the config (run it on a machine with internet); adds what "fresh" means per venue')
    .option('--record <dir>', 'write every venue answer as a test fixture under DIR/<venue>/<feed>.json (format: test/fixtures/exchanges/README.md)')
    .action(async (opts: { config: string; live?: boolean; record?: string }) => {
      await run(async () => {
        const config = loadNodeConfig(opts.config);
        loadCommittee(config.committee);
        let snapshot: Snapshot;
        let rows: CheckRow[] | undefined;
        if (opts.live || opts.record !== undefined) {
          rows = await checkSources(config, { ...(opts.live ? { live: true } : {}), ...(opts.record !== undefined ? { recordDir: opts.record } : {}) });
          snapshot = snapshotOf(rows);
          const fresh = new Table({ head: ['source', 'url', 'fresh means'], ...plainWhenPiped() });
          const seen = new Set<string>();
          for (const r of rows) {
            if (seen.has(r.source + r.baseUrl)) continue;
            seen.add(r.source + r.baseUrl);
            fresh.push([r.source, r.baseUrl, wrap(r.freshness, 60)]);
          }
          console.log(fresh.toString());
        } else {
          const poller = new SourcePoller({ config });
          snapshot = await poller.refresh();
          await poller.stop();
        }
        const views = priceFeeds({ feeds: config.feeds, snapshot, nowMs: Date.now() });
        const table = new Table({ head: ['source', 'feed', 'market', 'price', 'age', 'status'], ...plainWhenPiped() });
        let failures = 0;
        for (const feed of config.feeds) {
          const view = views.get(feed.name);
          const verdicts = new Map((view?.result?.sources ?? []).map((v) => [v.source, v]));
          for (const e of snapshot.feeds.get(feed.name) ?? []) {
            const v = verdicts.get(e.source);
            const ts = e.quote && (e.quote.venueTimestampMs ?? e.quote.receivedAtMs);
            const status = e.error ? `${e.error.kind}: ${e.error.message}` : v?.used ? 'ok' : (v?.reason ? `${v.reason}: ${v.detail ?? ''}` : 'not priced (see feed line)');
            if (e.error) failures++;
            table.push([e.source, feed.name, e.market, e.quote ? priceText(e.quote.price) : '-', ts !== undefined ? `${((Date.now() - ts) / 1000).toFixed(1)} s` : '-', wrap(status)]);
          }
        }
        console.log(table.toString());
        const feeds = new Table({ head: ['feed', 'answer', 'decimals', 'status'], ...plainWhenPiped() });
        for (const feed of config.feeds) {
          const view = views.get(feed.name)!;
          feeds.push([feed.name, view.ok ? priceText(view.price) : '-', feed.decimals, view.ok ? `ok (${view.answer})` : wrap(`${view.reason}: ${view.detail}`)]);
        }
        console.log(feeds.toString());
        const priced = [...views.values()].filter((v) => v.ok).length;
        console.log(`${priced} of ${config.feeds.length} feeds priced; ${failures} source fetch(es) failed`);
        const files = (rows ?? []).filter((r) => r.recorded).map((r) => r.recorded!);
        if (opts.record !== undefined) console.log(`recorded ${files.length} fixture(s) under ${opts.record}; copy them into test/fixtures/exchanges/<venue>/ to replay them in the adapter tests`);
        if (priced < config.feeds.length) process.exitCode = 2;
      });
    });

  registerKeysCommands(program);
}

function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('create, import and inspect node keystores (EIP-2335)');
  const kind = () => new Argument('<kind>', 'identity (Ed25519) or share (BLS)').choices(['identity', 'share']);
  const passwordOptions = (cmd: Command) =>
    cmd
      .option('--password-file <file>', 'file holding the keystore password')
      .option('--password-env <name>', 'environment variable holding the keystore password')
      .addOption(new Option('--scrypt-n <n>', 'scrypt cost (default 262144; lower only for tests)').argParser(Number).hideHelp());

  passwordOptions(
    keys
      .command('create')
      .description('create a new key: an identity key, or a solo BLS key (n = t = 1) for development; committee shares come from the dealer or DKG via import')
      .addArgument(kind())
      .requiredOption('-o, --out <file>', 'keystore file to write (never overwritten)'),
  ).action(async (k: string, opts: KeyOpts) => {
    await run(async () => {
      const write = { password: password(opts), ...kdfOf(opts) };
      const pub = k === 'identity' ? await createIdentity(opts.out, write) : await createSoloBlsKey(opts.out, write);
      console.log(JSON.stringify(pub, null, 2));
    });
  });

  passwordOptions(
    keys
      .command('import')
      .description('encrypt an existing secret (hex) into a keystore')
      .addArgument(kind())
      .requiredOption('-o, --out <file>', 'keystore file to write (never overwritten)')
      .option('--secret-file <file>', 'file holding the secret as hex')
      .option('--secret-env <name>', 'environment variable holding the secret as hex')
      .option('--committee <file>', 'share: take n, t and the group key from this committee file')
      .option('--index <i>', 'share: this node\'s index', Number)
      .option('--n <n>', 'share: committee size (without --committee)', Number)
      .option('--t <t>', 'share: threshold (without --committee)', Number)
      .option('--group-key <hex>', 'share: 96-byte compressed group public key (without --committee)'),
  ).action(async (k: string, opts: KeyOpts & ImportOpts) => {
    await run(async () => {
      const secret = secretHex(opts);
      const write = { password: password(opts), ...kdfOf(opts) };
      if (k === 'identity') {
        console.log(JSON.stringify(await importIdentity(opts.out, secret, write), null, 2));
        return;
      }
      if (opts.index === undefined) throw new NodeError('config_invalid', 'keys import share: give --index, this node\'s index in the committee');
      let info: { index: number; n: number; t: number; groupPublicKey: string };
      if (opts.committee) {
        const c = loadCommittee(opts.committee);
        info = { index: opts.index, n: c.nodes.length, t: c.t, groupPublicKey: c.groupPublicKey };
      } else {
        if (opts.n === undefined || opts.t === undefined || opts.groupKey === undefined) {
          throw new NodeError('config_invalid', 'keys import share: give --committee FILE, or all of --n, --t and --group-key');
        }
        info = { index: opts.index, n: opts.n, t: opts.t, groupPublicKey: opts.groupKey };
      }
      console.log(JSON.stringify(await importBlsShare(opts.out, secret, info, write), null, 2));
    });
  });

  keys
    .command('inspect')
    .description('show what a keystore holds (kind, public key, share index and committee), without the password')
    .argument('<file>', 'keystore file')
    .action(async (file: string) => {
      await run(async () => {
        console.log(JSON.stringify(inspectKeystore(file), null, 2));
      });
    });
}

interface KeyOpts {
  out: string;
  passwordFile?: string;
  passwordEnv?: string;
  scryptN?: number;
}

interface ImportOpts {
  secretFile?: string;
  secretEnv?: string;
  committee?: string;
  index?: number;
  n?: number;
  t?: number;
  groupKey?: string;
}

function password(opts: KeyOpts): string {
  return readPassword(source(opts.passwordFile, opts.passwordEnv, 'password'));
}

function source(file: string | undefined, env: string | undefined, what: string): PasswordSource {
  if ((file === undefined) === (env === undefined)) {
    throw new NodeError('secret_missing', `give exactly one of --${what}-file or --${what}-env (secrets never go on the command line)`);
  }
  return file !== undefined ? { file } : { env: env! };
}

function secretHex(opts: ImportOpts): string {
  const src = source(opts.secretFile, opts.secretEnv, 'secret');
  if ('file' in src) {
    try {
      return readFileSync(src.file, 'utf8').trim();
    } catch (err) {
      throw new NodeError('secret_missing', `--secret-file ${src.file}: cannot read it (${(err as Error).message})`, { cause: err });
    }
  }
  const v = process.env[src.env];
  if (!v) throw new NodeError('secret_missing', `--secret-env ${src.env}: the variable is not set`);
  return v.trim();
}

function kdfOf(opts: KeyOpts): { kdf?: KdfChoice } {
  return opts.scryptN !== undefined ? { kdf: { function: 'scrypt', n: opts.scryptN } } : {};
}

/** The poller's snapshot shape from one check pass, so the feed table prices it the same way. */
function snapshotOf(rows: CheckRow[]): Snapshot {
  const feeds = new Map<string, SourceEntry[]>();
  for (const r of rows) {
    const list = feeds.get(r.feed) ?? [];
    list.push({ feed: r.feed, source: r.source, venue: r.venue, market: r.market, ...(r.quote ? { quote: r.quote } : {}), ...(r.error ? { error: r.error } : {}) });
    feeds.set(r.feed, list);
  }
  return { version: 1, takenAtMs: Date.now(), feeds };
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new Error(`--port ${v}: expected an integer from 0 to 65535`);
  return n;
}

function wrap(s: string, width = 70): string {
  return s.length <= width ? s : (s.match(new RegExp(`.{1,${width}}`, 'g')) ?? [s]).join('\n');
}

/**
 * Run a command; it fails with one line and exit 1 (`runtime/cli-action.ts`). The node's own
 * errors print `error (<code>): …`; anything else is unexpected here and prints its stack.
 */
function run(fn: () => Promise<void>): Promise<void> {
  return runOrExit(fn, (err) => {
    if (err instanceof NodeError || err instanceof KeystoreError || (err instanceof Error && (err.name === 'StoreError' || err.name === 'DkgSetupError'))) return errorLine(err);
    return `error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
  });
}
