/**
 * `aegis dkg …`: the ceremony from the command line. Thin over `node/dkg/server.ts` (the
 * node's side) and `node/dkg/coordinator.ts` (the driver). Errors print one line naming the
 * phase and the participant, and exit 1. Operator steps: node/dkg/README.md.
 *
 *   aegis dkg serve     --config node.yaml [--host IP] [--port N] [--coordinator KEY]...
 *   aegis dkg approve   --config node.yaml CEREMONY_FILE [--allow-lower-threshold]
 *   aegis dkg approvals --config node.yaml
 *   aegis dkg revoke    --config node.yaml CEREMONY_ID_OR_DIGEST
 *   aegis dkg ceremony  --id ID --t T --node URL... [--phase-s S] [--chain-id N --hub ADDR --config-version V --aggregator KEY...] --out FILE
 *   aegis dkg start     --ceremony FILE <coordinator key> [--phase-timeout-s S] [--transcript-out F] [--committee-out F]
 *   aegis dkg reshare   --committee CURRENT --id ID --t T --node URL... [--dealer URL...] [--out-dir DIR]   (writes the file)
 *   aegis dkg reshare   --committee CURRENT --ceremony APPROVED_FILE <coordinator key> [--out-dir DIR]
 *                       [--rotate --rpc URL --tx-key-env VAR]                                         (runs it)
 *   aegis dkg rotate    --ceremony RESHARE_FILE --committee CURRENT --rpc URL --tx-key-env VAR [--deployment NAME|CHAIN_ID] <coordinator key>
 *   aegis dkg retire    --share OLD_KEYSTORE --committee ITS_COMMITTEE (--rpc URL | --force)
 *   aegis dkg status    (--node URL... | --ceremony FILE)
 *   aegis dkg committee --ceremony FILE --transcript FILE --chain-id N --hub ADDR [--config-version V] [--deployment CHAIN_ID:HUB[:NAME]...] [--aggregator KEY...] -o FILE
 *   aegis dkg verify    TRANSCRIPT [--committee FILE]
 *
 * <coordinator key>: --key KEYSTORE (--password-file F | --password-env V), an EIP-2335
 * Ed25519 keystore of a key made for coordinating (never an aggregator's: nodes refuse those),
 * or --secret-env VAR holding the 32-byte seed as hex (development).
 *
 * A node deals only in a ceremony its operator approved: `approve` prints what the file asks
 * of this node (members, thresholds, this node's roles) and pins its approval digest in the
 * config's `dkg.approvals` folder, which the running node reads at every deal.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decrypt } from '@chainsafe/bls-keystore';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { Command } from 'commander';
import { JsonRpcProvider, Wallet } from 'ethers';
import { deploymentLabel, parseCommittee } from '../../protocol/index.ts';
import { runOrExit } from '../../runtime/cli-action.ts';
import { verifyTranscript } from '../../protocol/dkg/index.ts';
import { readPassword } from '../keys/index.ts';
import { loadNodeConfig } from '../config.ts';
import { createNodeLogger } from '../log.ts';
import { describeApproval, listApprovals, revokeApproval } from './approvals.ts';
import { CoordinatorError, buildCeremonyFile, committeeFileOf, planOf, rotateHub, runCeremony, type RunResult } from './coordinator.ts';
import { retireShare } from './retire.ts';
import { approvalFileOf, approveCeremonyFile, startDkgServer } from './server.ts';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/**
 * `--deployment CHAIN_ID:HUB[:NAME]` of `aegis dkg committee`: a further hub of the committee
 * (docs/design.md §Committee file), at the committee's config version. Duplicates and bad
 * names are refused afterwards by the committee schema, naming the entry.
 */
export function parseDeploymentOption(v: string, configVersion: number): { chainId: number; hub: string; configVersion: number; name?: string } {
  const m = /^(\d+):(0x[0-9a-fA-F]{40})(?::(.+))?$/.exec(v.trim());
  if (!m || !Number.isSafeInteger(Number(m[1])) || Number(m[1]) < 1) {
    throw new Error(`--deployment ${v}: expected CHAIN_ID:HUB[:NAME], such as 8453:0x<hub address>:base (a positive chain id, the hub's 20-byte 0x address, an optional short name)`);
  }
  return { chainId: Number(m[1]), hub: m[2]!, configVersion, ...(m[3] !== undefined ? { name: m[3] } : {}) };
}
const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} ${v}: expected a non-negative integer`);
  return n;
};

interface KeyOpts {
  key?: string;
  passwordFile?: string;
  passwordEnv?: string;
  secretEnv?: string;
}

function keyOptions(cmd: Command): Command {
  return cmd
    .option('--key <keystore>', 'coordinator Ed25519 keystore (EIP-2335; a key made for coordinating, listed in the nodes\' dkg.coordinators; not an aggregator key)')
    .option('--password-file <file>', 'file holding the keystore password')
    .option('--password-env <var>', 'environment variable holding the keystore password')
    .option('--secret-env <var>', 'environment variable holding the coordinator Ed25519 seed as hex (development)');
}

async function coordinatorSecret(o: KeyOpts): Promise<Uint8Array> {
  if (o.secretEnv) {
    const hex = process.env[o.secretEnv]?.replace(/^0x/, '');
    if (!hex || !/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error(`--secret-env ${o.secretEnv}: expected 32 bytes of hex in that variable`);
    return hexToBytes(hex);
  }
  if (!o.key) throw new Error('coordinator key: pass --key KEYSTORE with --password-file/--password-env, or --secret-env VAR');
  const password = readPassword(o.passwordFile ? { file: o.passwordFile } : { env: o.passwordEnv ?? 'AEGIS_COORDINATOR_PASSWORD' });
  const ks = JSON.parse(readFileSync(o.key, 'utf8')) as { pubkey: string };
  const seed = await decrypt(ks as never, password);
  if (seed.length !== 32 || bytesToHex(ed25519.getPublicKey(seed)) !== ks.pubkey.toLowerCase().replace(/^0x/, '')) {
    throw new Error(`--key ${o.key}: not an Ed25519 identity keystore (pubkey does not match the secret)`);
  }
  return seed;
}

const readJson = (file: string, what: string): unknown => {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${what} ${file}: cannot read it as JSON (${(err as Error).message})`);
  }
};
const writeJson = (file: string, v: unknown) => writeFileSync(file, `${JSON.stringify(v, null, 2)}\n`);
const say = (l: string) => console.log(l);

function summary(r: RunResult, transcriptOut?: string, committeeOut?: string): void {
  const v = r.verification;
  console.log(`ceremony ${r.ceremony.ceremonyId}: done. n=${v.n} t=${v.t}, qualified dealers ${v.qualified.join(', ')}`);
  for (const d of v.disqualified) console.log(`  disqualified: ${d.reason}`);
  for (const e of r.excluded) console.log(`  left out: ${e.node} in phase "${e.phase}": ${e.reason}`);
  console.log(`  group public key ${v.groupPublicKey}`);
  console.log(`  transcript digest ${r.transcriptDigest} (every finalizing node reported it)`);
  for (const s of r.shareFiles) console.log(`  share ${s.index} written by ${s.node} to ${s.file}`);
  if (transcriptOut) console.log(`  transcript: ${transcriptOut} (check it with: aegis dkg verify ${transcriptOut})`);
  if (committeeOut) console.log(`  committee file: ${committeeOut}`);
}

export function registerDkgCommands(program: Command): void {
  const dkg = program.command('dkg').description('distributed key generation and resharing of the committee key');

  dkg
    .command('serve')
    .description("serve the ceremony endpoints (/v1/dkg/*) from a node's config, before the node has a share")
    .requiredOption('-c, --config <file>', 'node YAML config (identity keystore, share keystore path and password)')
    .option('--host <ip>', 'override listen.host (an IP address; 0.0.0.0 for every interface)')
    .option('-p, --port <port>', 'override listen.port', int('--port'))
    .option('--coordinator <key>', 'allow this coordinator Ed25519 key (0x-hex) besides the config\'s dkg.coordinators; repeatable; never an aggregator key (refused)', collect)
    .action(async (o: { config: string; host?: string; port?: number; coordinator?: string[] }) => {
      await runOrExit(async () => {
        const logger = createNodeLogger('info');
        const server = await startDkgServer(o.config, { logger, ...(o.host !== undefined ? { host: o.host } : {}), ...(o.port !== undefined ? { port: o.port } : {}), coordinators: o.coordinator ?? [] });
        const stop = () => server.close().then(() => process.exit(0), () => process.exit(1));
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });

  dkg
    .command('approve')
    .description('review a ceremony file and approve it for this node: the node deals only in ceremonies its operator approved')
    .requiredOption('-c, --config <file>', 'node YAML config (identity keystore, committee file, dkg.approvals folder)')
    .argument('<ceremony>', 'ceremony file (aegis dkg ceremony / reshare output), as every operator received it')
    .option('--allow-lower-threshold', 'approve a resharing whose new t is below the current t')
    .action(async (file: string, o: { config: string; allowLowerThreshold?: boolean }) => {
      await runOrExit(async () => {
        const config = loadNodeConfig(o.config);
        const record = approveCeremonyFile(config, readJson(file, 'ceremony file'), { allowLowerThreshold: o.allowLowerThreshold ?? false, fileName: file });
        for (const l of describeApproval(record)) say(l);
        say(`approved: ${approvalFileOf(config, record)}. This node will deal in ceremony ${record.ceremonyId} when its coordinator starts it; undo with: aegis dkg revoke --config ${o.config} ${record.ceremonyId}`);
      });
    });

  dkg
    .command('approvals')
    .description('list the ceremonies this node\'s operator approved')
    .requiredOption('-c, --config <file>', 'node YAML config')
    .action(async (o: { config: string }) => {
      await runOrExit(async () => {
        const config = loadNodeConfig(o.config);
        const { records, bad } = listApprovals(config.dkg.approvals);
        if (records.length === 0) say(`no approved ceremony in ${config.dkg.approvals}`);
        for (const { file, record } of records) {
          say(`${record.approvedAt} ${file}`);
          for (const l of describeApproval(record)) say(`  ${l}`);
        }
        for (const f of bad) say(`damaged approval file (ignored for its digest, refuses deals): ${f}`);
      });
    });

  dkg
    .command('revoke')
    .description('withdraw the approval of a ceremony (by ceremony id or approval digest): the node no longer deals in it')
    .requiredOption('-c, --config <file>', 'node YAML config')
    .argument('<ceremony>', 'ceremony id or approval digest')
    .action(async (which: string, o: { config: string }) => {
      await runOrExit(async () => {
        const config = loadNodeConfig(o.config);
        for (const { file, record } of revokeApproval(config.dkg.approvals, which)) say(`revoked ${record.ceremonyId} (approval digest ${record.approvalDigest}): removed ${file}`);
      });
    });

  dkg
    .command('ceremony')
    .description('write a ceremony file: asks each node for its identity key and this ceremony\'s encryption key')
    .requiredOption('--id <ceremonyId>', 'a fresh id for every attempt')
    .requiredOption('--t <t>', 'threshold of the committee to produce', int('--t'))
    .requiredOption('--node <url>', 'API URL of member 1, 2, … in order; repeatable', collect)
    .option('--previous <committee.json>', 'resharing: the current committee file')
    .option('--dealer <url>', 'resharing: API URL of current member 1, 2, … (default: the committee file\'s url); repeatable', collect)
    .option('--phase-s <s>', 'put absolute deadlines in the file, this many seconds per phase from now', int('--phase-s'))
    .option('--chain-id <n>', 'committee file output: chain id', int('--chain-id'))
    .option('--hub <address>', 'committee file output: hub address')
    .option('--config-version <v>', 'committee file output: config version', int('--config-version'), 1)
    .option('--aggregator <key>', 'committee file output: aggregator identity key; repeatable', collect)
    .requiredOption('-o, --out <file>', 'ceremony file to write')
    .action(async (o: { id: string; t: number; node: string[]; previous?: string; dealer?: string[]; phaseS?: number; chainId?: number; hub?: string; configVersion: number; aggregator?: string[]; out: string }) => {
      await runOrExit(async () => {
        // The committee block needs all of chain id and hub; half of it used to be dropped without a word.
        if ((o.chainId !== undefined || o.aggregator) && !o.hub) {
          throw new CoordinatorError('bad_ceremony_file', `--chain-id/--aggregator describe the committee file, which also needs --hub; give --hub ADDR, or leave them all out now and write the committee file once the hub is deployed: aegis dkg committee --ceremony ${o.out} --transcript transcript.json --chain-id N --hub ADDR --aggregator KEY -o committee.json`);
        }
        if (o.hub && o.chainId === undefined) throw new CoordinatorError('bad_ceremony_file', `--hub ${o.hub} needs --chain-id N (the chain the hub is on)`);
        const file = await buildCeremonyFile({
          ceremonyId: o.id,
          t: o.t,
          nodes: o.node,
          ...(o.previous ? { previous: readJson(o.previous, 'committee file') } : {}),
          ...(o.dealer ? { dealerUrls: o.dealer } : {}),
          ...(o.phaseS ? { phaseMs: o.phaseS * 1000 } : {}),
          ...(o.chainId !== undefined && o.hub ? { committee: { chainId: o.chainId, hub: o.hub, configVersion: o.configVersion, aggregators: (o.aggregator ?? []).map((identityKey) => ({ identityKey })) } } : {}),
        });
        planOf(file);
        writeJson(o.out, file);
        console.log(`ceremony file ${o.out}: ${o.id}, n=${o.node.length} t=${o.t}. Send it to every operator; each reviews it and runs "aegis dkg approve --config node.yaml ${o.out}" before "aegis dkg start".`);
      });
    });

  keyOptions(
    dkg
      .command('start')
      .description('run a ceremony over the nodes\' APIs: deal, complaints, responses, finalize; write the transcript')
      .requiredOption('--ceremony <file>', 'ceremony file (aegis dkg ceremony)')
      .option('--phase-timeout-s <s>', 'seconds per phase when the file has no deadlines', int('--phase-timeout-s'), 60)
      .option('--transcript-out <file>', 'transcript to write', 'transcript.json')
      .option('--committee-out <file>', 'committee file to write (needs a "committee" block in the ceremony file)'),
  ).action(async (o: KeyOpts & { ceremony: string; phaseTimeoutS: number; transcriptOut: string; committeeOut?: string }) => {
    await runOrExit(async () => {
      const ceremonyFile = readJson(o.ceremony, 'ceremony file');
      if (o.committeeOut && !planOf(ceremonyFile).committee) {
        throw new CoordinatorError('bad_ceremony_file', `--committee-out ${o.committeeOut}: ceremony file ${o.ceremony} has no committee block (it was written without --hub); drop --committee-out and, after the ceremony, write the committee file with: aegis dkg committee --ceremony ${o.ceremony} --transcript ${o.transcriptOut} --chain-id N --hub ADDR --aggregator KEY -o committee.json`);
      }
      const r = await runCeremony(ceremonyFile, {
        coordinatorSecret: await coordinatorSecret(o),
        phaseTimeoutMs: o.phaseTimeoutS * 1000,
        progress: say,
        transcriptOut: o.transcriptOut,
        ...(o.committeeOut ? { committeeOut: o.committeeOut } : {}),
      });
      summary(r, o.transcriptOut, r.committee ? o.committeeOut : undefined);
    });
  });

  keyOptions(
    dkg
      .command('reshare')
      .description('reshare the current committee\'s key to a new membership and threshold (same group key). Without --ceremony: write the ceremony file for the operators to approve. With --ceremony: run that approved file; write the transcript and new committee file (configVersion + 1)')
      .requiredOption('--committee <file>', 'the current committee file')
      .option('--id <ceremonyId>', 'writing: a fresh id for every attempt')
      .option('--t <t>', 'writing: threshold of the new committee', int('--t'))
      .option('--node <url>', 'writing: API URL of new member 1, 2, … in order; repeatable', collect)
      .option('--dealer <url>', 'writing: API URL of current member 1, 2, … (default: the committee file\'s url); repeatable', collect)
      .option('--ceremony <file>', 'running: the ceremony file every operator approved (aegis dkg approve)')
      .option('--phase-timeout-s <s>', 'seconds per phase', int('--phase-timeout-s'), 60)
      .option('--out-dir <dir>', 'where to write ceremony.json, transcript.json, committee.json', '.')
      .option('--rotate', 'then have the current committee sign the hub rotation and send it')
      .option('--rpc <url>', 'with --rotate: JSON-RPC URL of the chain')
      .option('--tx-key-env <var>', 'with --rotate: environment variable holding the private key that sends the rotation transaction')
      .option('--deployment <name|chainId>', 'with --rotate: which hub of the committee file to rotate (default the primary); rotate the others with aegis dkg rotate --deployment'),
  ).action(async (o: KeyOpts & { committee: string; id?: string; t?: number; node?: string[]; dealer?: string[]; ceremony?: string; phaseTimeoutS: number; outDir: string; rotate?: boolean; rpc?: string; txKeyEnv?: string; deployment?: string }) => {
    await runOrExit(async () => {
      const current = readJson(o.committee, 'committee file');
      mkdirSync(o.outDir, { recursive: true });
      const paths = { ceremony: join(o.outDir, 'ceremony.json'), transcript: join(o.outDir, 'transcript.json'), committee: join(o.outDir, 'committee.json') };
      if (!o.ceremony) {
        // Nodes deal only in approved ceremonies, so writing the file and running it are two
        // steps with the operators' review in between.
        if (!o.id || o.t === undefined || !o.node?.length) throw new Error('reshare: to write the ceremony file give --id, --t and --node URL (repeatable); to run an approved one give --ceremony FILE');
        const file = await buildCeremonyFile({ ceremonyId: o.id, t: o.t, nodes: o.node, previous: current, ...(o.dealer ? { dealerUrls: o.dealer } : {}) });
        writeJson(paths.ceremony, file);
        const prevT = parseCommittee(current).t;
        say(`ceremony file ${paths.ceremony}: resharing ${o.id} to n=${o.node.length} t=${o.t} (current t=${prevT}). Send it to every current and new operator; each reviews it and runs "aegis dkg approve --config node.yaml ${paths.ceremony}"${o.t < prevT ? ' --allow-lower-threshold (the threshold goes down)' : ''}.`);
        say(`then: aegis dkg reshare --committee ${o.committee} --ceremony ${paths.ceremony} --out-dir ${o.outDir} <coordinator key> [--rotate --rpc URL --tx-key-env VAR]`);
        return;
      }
      const file = readJson(o.ceremony, 'ceremony file');
      if (!planOf(file).ceremony.previous) throw new CoordinatorError('bad_ceremony_file', `ceremony file ${o.ceremony} is not a resharing (no "previous"); run it with aegis dkg start`);
      const secret = await coordinatorSecret(o);
      const r = await runCeremony(file, { coordinatorSecret: secret, phaseTimeoutMs: o.phaseTimeoutS * 1000, progress: say, transcriptOut: paths.transcript, committeeOut: paths.committee });
      summary(r, paths.transcript, paths.committee);
      if (o.rotate) await rotate({ ceremonyFile: file, current, secret, rpc: o.rpc, txKeyEnv: o.txKeyEnv, deployment: o.deployment });
      else console.log(`next: aegis dkg rotate --ceremony ${o.ceremony} --committee ${o.committee} --rpc URL --tx-key-env VAR …`);
    });
  });

  keyOptions(
    dkg
      .command('rotate')
      .description('after a resharing: the current committee signs the hub\'s committee rotation (threshold signature); send it')
      .requiredOption('--ceremony <file>', 'ceremony file of the finished resharing')
      .requiredOption('--committee <file>', 'the current committee file (the hub\'s committee now)')
      .requiredOption('--rpc <url>', 'JSON-RPC URL of the chain')
      .requiredOption('--tx-key-env <var>', 'environment variable holding the private key that sends the transaction')
      .option('--deployment <name|chainId>', 'which hub of the committee file to rotate: a deployment name or chain id (default the primary hub); run once per hub, --rpc on that hub\'s chain'),
  ).action(async (o: KeyOpts & { ceremony: string; committee: string; rpc: string; txKeyEnv: string; deployment?: string }) => {
    await runOrExit(async () => {
      await rotate({ ceremonyFile: readJson(o.ceremony, 'ceremony file'), current: readJson(o.committee, 'committee file'), secret: await coordinatorSecret(o), rpc: o.rpc, txKeyEnv: o.txKeyEnv, deployment: o.deployment });
    });
  });

  dkg
    .command('retire')
    .description('after the hub rotated: erase an old share keystore (overwrite with random bytes, fsync, unlink), once the hub is past its configuration')
    .requiredOption('--share <keystore>', 'the old share keystore')
    .requiredOption('--committee <file>', 'the committee file that share belongs to (the committee before the rotation)')
    .option('--rpc <url>', 'JSON-RPC URL of the hub\'s chain, to check that the hub rotated past that committee; repeat it once per chain when the committee file lists several hubs', collect)
    .option('--force', 'erase without asking the hub (the keystore must still match the committee file)')
    .action(async (o: { share: string; committee: string; rpc?: string[]; force?: boolean }) => {
      await runOrExit(async () => {
        const providers = (o.rpc ?? []).map((u) => new JsonRpcProvider(u, undefined, { staticNetwork: true }));
        try {
          const r = await retireShare({ shareFile: o.share, committee: readJson(o.committee, 'committee file'), committeeName: o.committee, providers, ...(o.force ? { force: true } : {}) });
          console.log(`retired ${r.file}: share ${r.share.index} (public share ${r.share.publicShare.slice(0, 18)}…) of configVersion ${r.configVersion}, config digest ${r.configDigest}, n=${r.share.n} t=${r.share.t}`);
          if (!r.hubs) console.log('  hub not asked (--force)');
          for (const h of r.hubs ?? []) console.log(`  hub ${h.hub} is at configVersion ${h.configVersion}, config digest ${h.configDigest}`);
          console.log(`  overwrote ${r.bytes} bytes with random bytes, fsynced, unlinked. Delete any backup of this keystore too.`);
        } finally {
          for (const p of providers) p.destroy();
        }
      });
    });

  dkg
    .command('status')
    .description('phase of every ceremony each node knows')
    .option('--node <url>', 'node API URL; repeatable', collect)
    .option('--ceremony <file>', 'take the node URLs from a ceremony file')
    .action(async (o: { node?: string[]; ceremony?: string }) => {
      await runOrExit(async () => {
        const urls = o.node ?? (o.ceremony ? planOf(readJson(o.ceremony, 'ceremony file')).nodes.map((n) => n.url) : []);
        if (urls.length === 0) throw new Error('pass --node URL (repeatable) or --ceremony FILE');
        let down = 0;
        for (const u of urls) {
          try {
            const res = await fetch(`${u}/v1/dkg/status`, { signal: AbortSignal.timeout(5_000) });
            const s = (await res.json()) as { identityKey: string; ceremonies: { ceremonyId: string; kind: string; phase: string; recipient?: number; dealer?: number; transcriptDigest?: string; error?: string }[] };
            console.log(`${u} identity ${s.identityKey.slice(0, 18)}…`);
            if (s.ceremonies.length === 0) console.log('  no ceremony');
            for (const c of s.ceremonies) {
              console.log(`  ${c.ceremonyId} (${c.kind}): ${c.phase}${c.recipient ? ` member ${c.recipient}` : ''}${c.dealer ? ` dealer ${c.dealer}` : ''}${c.transcriptDigest ? ` transcript ${c.transcriptDigest.slice(0, 18)}…` : ''}${c.error ? ` — ${c.error}` : ''}`);
            }
          } catch (err) {
            down++;
            console.log(`${u} unreachable (${(err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message})`);
          }
        }
        if (down > 0) process.exitCode = 1;
      });
    });

  dkg
    .command('committee')
    .description('write the committee file of a finished ceremony (for a ceremony run before the hub was deployed): public shares from the verified transcript, node URLs from the ceremony file')
    .requiredOption('--ceremony <file>', 'the ceremony file (aegis dkg ceremony)')
    .requiredOption('--transcript <file>', 'the transcript (aegis dkg start --transcript-out)')
    .requiredOption('--chain-id <n>', 'chain id of the hub', int('--chain-id'))
    .requiredOption('--hub <address>', 'hub address')
    .option('--config-version <v>', 'config version the hub will have for this committee', int('--config-version'), 1)
    .option('--deployment <chainId:hub[:name]>', 'a further hub of this committee on another chain (or another hub on one chain), at --config-version; repeatable (docs/launching-a-feed-network.md, several chains)', collect)
    .option('--aggregator <key>', 'aggregator identity key; repeatable', collect)
    .requiredOption('-o, --out <file>', 'committee file to write')
    .action(async (o: { ceremony: string; transcript: string; chainId: number; hub: string; configVersion: number; deployment?: string[]; aggregator?: string[]; out: string }) => {
      await runOrExit(async () => {
        const ceremonyFile = readJson(o.ceremony, 'ceremony file') as Record<string, unknown>;
        const deployments = (o.deployment ?? []).map((d) => parseDeploymentOption(d, o.configVersion));
        const plan = planOf({ ...ceremonyFile, committee: { chainId: o.chainId, hub: o.hub, configVersion: o.configVersion, ...(deployments.length ? { deployments } : {}), aggregators: (o.aggregator ?? []).map((identityKey) => ({ identityKey })) } });
        const v = verifyTranscript(readJson(o.transcript, 'transcript'));
        if (!v.ok) throw new CoordinatorError('bad_transcript', `transcript ${o.transcript} does not verify: ${v.reason}`);
        if (v.ceremony.ceremonyId !== plan.ceremony.ceremonyId) {
          throw new CoordinatorError('bad_transcript', `transcript ${o.transcript} is of ceremony ${v.ceremony.ceremonyId}, the ceremony file ${o.ceremony} describes ${plan.ceremony.ceremonyId}; pass the pair of one ceremony`);
        }
        const file = committeeFileOf(plan, v);
        const committee = parseCommittee(file);
        writeJson(o.out, file);
        console.log(`committee file ${o.out}: n=${committee.nodes.length} t=${committee.t}, chain ${committee.chainId}, hub ${committee.hub}, configVersion ${committee.configVersion}, ${committee.aggregators.length} aggregator(s)`);
        for (const d of committee.deployments ?? []) console.log(`  also ${deploymentLabel(d)}, configVersion ${d.configVersion}`);
        if (committee.aggregators.length === 0) console.log('  no aggregator listed: nodes refuse every request until one is added under "aggregators"');
      });
    });

  dkg
    .command('verify')
    .description('re-verify a transcript (signatures, complaints, qualified set, group key, public shares); no secret needed')
    .argument('<transcript>', 'transcript JSON')
    .option('--committee <file>', 'also check that this committee file matches the transcript')
    .action(async (file: string, o: { committee?: string }) => {
      await runOrExit(async () => {
        const v = verifyTranscript(readJson(file, 'transcript'));
        if (!v.ok) throw new CoordinatorError('bad_transcript', `transcript ${file} does not verify: ${v.reason}`);
        console.log(`transcript ${file}: valid. ceremony ${v.ceremony.ceremonyId}${v.ceremony.previous ? ' (resharing)' : ''}, n=${v.n} t=${v.t}`);
        console.log(`  qualified dealers ${v.qualified.join(', ')}`);
        for (const d of v.disqualified) console.log(`  disqualified: ${d.reason}`);
        console.log(`  group public key ${v.groupPublicKey}`);
        console.log(`  digest ${v.transcriptDigest}`);
        if (o.committee) {
          const c = parseCommittee(readJson(o.committee, 'committee file'));
          const problems: string[] = [];
          if (c.groupPublicKey.toLowerCase() !== v.groupPublicKey) problems.push('group key differs');
          if (c.t !== v.t || c.nodes.length !== v.n) problems.push(`n/t ${c.nodes.length}/${c.t} vs ${v.n}/${v.t}`);
          for (const n of c.nodes) {
            if (n.publicShare.toLowerCase() !== v.publicShares[n.index - 1]) problems.push(`node ${n.index}'s public share differs`);
            if (n.identityKey.toLowerCase() !== v.ceremony.participants[n.index - 1]?.identityKey) problems.push(`node ${n.index}'s identity key differs`);
          }
          if (problems.length) throw new CoordinatorError('bad_transcript', `committee file ${o.committee} does not match the transcript: ${problems.join('; ')}`);
          console.log(`  committee file ${o.committee} matches (configVersion ${c.configVersion})`);
        }
      });
    });
}

async function rotate(o: { ceremonyFile: unknown; current: unknown; secret: Uint8Array; rpc?: string | undefined; txKeyEnv?: string | undefined; deployment?: string | undefined }): Promise<void> {
  if (!o.rpc || !o.txKeyEnv) throw new Error('rotation needs --rpc URL and --tx-key-env VAR');
  const key = process.env[o.txKeyEnv];
  if (!key) throw new Error(`--tx-key-env ${o.txKeyEnv}: the variable is not set`);
  const provider = new JsonRpcProvider(o.rpc);
  try {
    const signer = new Wallet(key, provider);
    const r = await rotateHub({ ceremonyFile: o.ceremonyFile, current: o.current, signer, coordinatorSecret: o.secret, progress: say, deployment: o.deployment });
    const hubs = 1 + (parseCommittee(o.current).deployments?.length ?? 0);
    if (hubs > 1) say(`rotation: the committee file lists ${hubs} hubs; rotate each one (aegis dkg rotate --deployment NAME|CHAIN_ID --rpc <its chain>) before the nodes switch to the new committee file`);
    console.log(`rotated: tx ${r.txHash}, signed by current members ${r.signers.join(', ')}. Switch every node to the new committee file and share keystore, then erase the old share keystores on every old member: aegis dkg retire --share OLD_KEYSTORE --committee <this current committee file> --rpc URL.`);
  } finally {
    provider.destroy();
  }
}


