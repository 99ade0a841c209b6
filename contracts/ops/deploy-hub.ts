/**
 * `aegis hub deploy`: the hub (and the adapter factory) for a committee at deterministic
 * addresses, verified byte for byte against the local build, with the hub's address written
 * into the committee file. Idempotent: run it again and it finds both contracts, verifies them
 * and rewrites nothing else. A fresh hub starts at configVersion 1; later committees reach it
 * by rotation (docs/key-ceremony.md), never by a new deployment.
 *
 * `deployment` deploys a further hub of the same committee (docs/design.md §Committee file) on
 * its own chain, with the same CREATE2 path. An entry the committee file already lists is
 * checked before any transaction: the RPC's chain id must be the entry's, and the address the
 * deployment lands at must be the entry's `hub` (nothing is written). A selector that names no
 * entry adds one: a name becomes the entry's `name` on the RPC's chain, a chain id must be the
 * RPC's; after the hub is verified, `{ chainId, hub, configVersion: 1, name }` is appended to
 * `deployments`, so a second run finds the entry and only verifies it.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { AbiCoder, Contract, concat, getAddress, getBytes, hexlify, id, type Signer } from 'ethers';
import { g2ToEip2537 } from '../../protocol/bls/index.ts';
import { committeeConfigDigest, committeeForDeployment, committeeDeployments, deploymentLabel, parseCommittee, selectDeployment, type Committee, type CommitteeDeployment } from '../../protocol/committee.ts';
import { artifact, compileContracts, type CompileOutput } from '../compile.ts';
import { deployDeterministic, DeployError, deterministicAddress, ensureDeployer, verifyDeployedCode } from './create2.ts';

export const DEFAULT_SALT = id('aegis.hub.v1');

export interface DeployHubOptions {
  signer: Signer;
  committeeFile: string;
  /** Default: the signer (a Safe or timelock is set afterwards with setGuardian, or given here). */
  guardian?: string;
  maxFutureDriftSec?: number;
  maxReportAgeSec?: number;
  confirmations?: number;
  salt?: string;
  /** Write the hub address into the committee file (default true); for a new `deployment`, append its entry. */
  writeCommittee?: boolean;
  /**
   * Deploy the hub of a further deployment instead of the primary's: its name or chain id
   * (docs/design.md §Committee file). One the committee file does not list is added.
   */
  deployment?: string;
  compiled?: CompileOutput;
  say?: (line: string) => void;
}

export interface DeployHubResult {
  hub: string;
  factory: string;
  deployed: { hub: boolean; factory: boolean; proxy: boolean };
  hubCodeHash: string;
  factoryCodeHash: string;
  configDigest: string;
  gasUsed: bigint;
  solcVersion: string;
  /** With `deployment`: which hub this was, and whether its entry was added to the committee file. */
  deployment?: { chainId: string; name?: string; added: boolean };
}

/** The hub a run deploys: the primary, a listed deployment, or a new deployment entry. */
interface Target {
  chainId: bigint;
  configVersion: bigint;
  /** The address the committee file lists (undefined for a new entry). */
  hub?: string;
  name?: string;
  kind: 'primary' | 'listed' | 'new';
  /** How errors name it. */
  label: string;
}

const isChainId = (s: string) => /^\d+$/.test(s);

function targetOf(committee: Committee, file: string, chainId: number, selector: string | undefined): Target {
  if (selector === undefined) {
    if (chainId !== Number(committee.chainId)) {
      const other = (committee.deployments ?? []).filter((d) => Number(d.chainId) === chainId);
      const hint = other.length ? `, or deploy its hub for chain ${chainId} with --deployment ${other[0]!.name ?? chainId}` : '';
      throw new DeployError('deploy_failed', `committee file ${file} is for chain ${committee.chainId}, the RPC serves chain ${chainId}; point --rpc at chain ${committee.chainId}${hint} or fix "chainId"`);
    }
    return { chainId: committee.chainId, configVersion: committee.configVersion, hub: committee.hub, kind: 'primary', label: `the primary deployment (chain ${committee.chainId})` };
  }
  const byChain = isChainId(selector);
  const listed = committeeDeployments(committee).filter((d) => (byChain ? d.chainId === BigInt(selector) : d.name === selector));
  if (listed.length === 0) {
    // A new entry: on the RPC's chain, named by the selector when it is a name.
    if (byChain && BigInt(selector) !== BigInt(chainId)) {
      throw new DeployError('deploy_failed', `--deployment ${selector}: committee file ${file} lists no hub on chain ${selector}, and a new one would be on the RPC's chain ${chainId}; point --rpc at chain ${selector}`);
    }
    return { chainId: BigInt(chainId), configVersion: 1n, ...(byChain ? {} : { name: selector }), kind: 'new', label: `new deployment ${byChain ? '' : `${selector} `}(chain ${chainId})` };
  }
  let d: CommitteeDeployment;
  try {
    d = selectDeployment(committee, byChain ? { chainId: BigInt(selector) } : { name: selector });
  } catch (err) {
    throw new DeployError('deploy_failed', `--deployment ${selector}: ${(err as Error).message}`);
  }
  const label = d.primary ? `the primary deployment ${deploymentLabel(d)}` : `deployment ${deploymentLabel(d)}`;
  if (Number(d.chainId) !== chainId) {
    throw new DeployError('deploy_failed', `--deployment ${selector}: ${label} of committee file ${file} is on chain ${d.chainId}, the RPC serves chain ${chainId}; point --rpc at chain ${d.chainId}`);
  }
  return { chainId: d.chainId, configVersion: d.configVersion, hub: d.hub, ...(d.name !== undefined ? { name: d.name } : {}), kind: d.primary ? 'primary' : 'listed', label };
}

function initCode(compiled: CompileOutput, name: string, args: unknown[]): string {
  const a = artifact(name, compiled);
  const ctor = (a.abi as { type: string; inputs?: { type: string; name: string; components?: unknown[] }[] }[]).find((f) => f.type === 'constructor');
  const types = (ctor?.inputs ?? []).map((i) => (i.type === 'tuple' ? `tuple(${(i.components as { type: string }[]).map((c) => c.type).join(',')})` : i.type));
  if (types.length !== args.length) throw new DeployError('deploy_failed', `${name}: the constructor takes ${types.length} arguments, the deployer passes ${args.length}; rebuild (npm run compile)`);
  return concat([a.bytecode, AbiCoder.defaultAbiCoder().encode(types, args)]);
}

export async function deployHub(o: DeployHubOptions): Promise<DeployHubResult> {
  const say = o.say ?? (() => undefined);
  const provider = o.signer.provider;
  if (!provider) throw new Error('hub deploy: the signer has no provider');
  const raw = JSON.parse(readFileSync(o.committeeFile, 'utf8')) as Record<string, unknown>;
  const committee = parseCommittee(raw);
  const chainId = Number((await provider.getNetwork()).chainId);
  const target = targetOf(committee, o.committeeFile, chainId, o.deployment);
  if (Number(target.configVersion) !== 1) {
    const where = target.kind === 'primary' ? '' : ` for ${target.label}`;
    throw new DeployError('deploy_failed', `committee file ${o.committeeFile} has configVersion ${target.configVersion}${where}; a new hub starts at configVersion 1 (a later committee reaches an existing hub by rotation: aegis dkg rotate)`);
  }
  const compiled = o.compiled ?? compileContracts();
  const confirmations = o.confirmations ?? 2;
  const salt = o.salt ?? DEFAULT_SALT;
  const guardian = getAddress(o.guardian ?? (await o.signer.getAddress()));
  const committeeArg = { groupPublicKey: hexlify(g2ToEip2537(getBytes(committee.groupPublicKey))), n: committee.nodes.length, t: committee.t };
  const hubInit = initCode(compiled, 'AegisHub', [guardian, o.maxFutureDriftSec ?? 60, o.maxReportAgeSec ?? 300, [committeeArg.groupPublicKey, committeeArg.n, committeeArg.t]]);
  const factoryInit = initCode(compiled, 'AegisAggregatorV3Factory', []);
  const predicted = deterministicAddress(salt, hubInit);
  say(`hub ${predicted} and adapter factory ${deterministicAddress(salt, factoryInit)} on chain ${chainId} (solc ${compiled.solcVersion}, salt ${salt})`);
  // Checked before any transaction: a listed deployment's address is part of its config digest,
  // so landing anywhere else would give a hub the nodes never sign for.
  if (target.kind === 'listed' && getAddress(target.hub!) !== predicted) {
    throw new DeployError(
      'address_mismatch',
      `${target.label}: committee file ${o.committeeFile} lists hub ${target.hub}, this deployment lands at ${predicted}; the address follows from the committee, guardian, --max-future-drift, --max-report-age and --salt, so give the ones that hub was deployed with, or remove the entry and run again to add it with the new address`,
    );
  }
  const added = target.kind === 'new' ? { chainId: Number(target.chainId), hub: predicted, configVersion: 1, ...(target.name !== undefined ? { name: target.name } : {}) } : undefined;
  if (added) {
    // The schema refuses a hub listed twice (a second hub on one chain needs another --salt).
    try {
      parseCommittee({ ...raw, deployments: [...((raw.deployments as unknown[] | undefined) ?? []), added] });
    } catch (err) {
      throw new DeployError('deploy_failed', `${target.label}: adding hub ${predicted} to committee file ${o.committeeFile} would make it invalid (${(err as Error).message.replace(/\s+/g, ' ').slice(0, 400)}); for a second hub on one chain give another --salt`);
    }
  }

  const proxy = await ensureDeployer(provider, o.signer, confirmations, say);
  let gasUsed = 0n;
  const hub = await deployDeterministic(o.signer, hubInit, salt, confirmations);
  if (hub.receipt) gasUsed += hub.receipt.gasUsed;
  say(hub.receipt ? `hub deployed at ${hub.address} (tx ${hub.receipt.hash}, ${hub.receipt.gasUsed} gas, ${confirmations} confirmation(s))` : `hub already at ${hub.address}`);
  const factory = await deployDeterministic(o.signer, factoryInit, salt, confirmations);
  if (factory.receipt) gasUsed += factory.receipt.gasUsed;
  say(factory.receipt ? `adapter factory deployed at ${factory.address} (tx ${factory.receipt.hash}, ${factory.receipt.gasUsed} gas)` : `adapter factory already at ${factory.address}`);

  // Byte for byte but the immutables, which are then checked by meaning: the hub's clock
  // bounds, and the factory's adapter implementations (their own code against the build).
  const hubCode = await verifyDeployedCode(provider, hub.address, artifact('AegisHub', compiled), 'hub');
  const hubContract = new Contract(hub.address, artifact('AegisHub', compiled).abi as never, provider);
  const [drift, age, onChainGuardian] = (await Promise.all(['maxFutureDrift', 'maxReportAge', 'guardian'].map((f) => hubContract.getFunction(f).staticCall()))) as [bigint, bigint, string];
  if (hub.receipt && (Number(drift) !== (o.maxFutureDriftSec ?? 60) || Number(age) !== (o.maxReportAgeSec ?? 300) || getAddress(onChainGuardian) !== guardian)) {
    throw new DeployError('code_mismatch', `hub ${hub.address}: deployed with maxFutureDrift ${drift}, maxReportAge ${age}, guardian ${onChainGuardian}, not what was asked`);
  }
  const factoryCode = await verifyDeployedCode(provider, factory.address, artifact('AegisAggregatorV3Factory', compiled), 'adapter factory');
  const factoryContract = new Contract(factory.address, artifact('AegisAggregatorV3Factory', compiled).abi as never, provider);
  for (const [getter, name] of [['lenientImplementation', 'AegisAggregatorV3'], ['strictImplementation', 'AegisAggregatorV3Strict']] as const) {
    if (!factoryContract.interface.getFunction(getter)) continue;
    const impl = String(await factoryContract.getFunction(getter).staticCall());
    await verifyDeployedCode(provider, impl, artifact(name, compiled), `adapter implementation ${name}`);
  }
  const hubCodeHash = hubCode.codeHash;
  const factoryCodeHash = factoryCode.codeHash;
  say(`code on chain equals the local build (immutables checked by value): hub ${hubCodeHash}, factory ${factoryCodeHash}`);

  const expected = committeeConfigDigest(committeeForDeployment(committee, { chainId: target.chainId, hub: hub.address, configVersion: target.configVersion })).toLowerCase();
  const onChain = String(await hubContract.getFunction('configDigest').staticCall()).toLowerCase();
  if (onChain !== expected) throw new DeployError('address_mismatch', `hub ${hub.address}: config digest ${onChain} on chain, ${expected} from the committee file; the hub at this address was deployed for another committee`);

  const write = (next: Record<string, unknown>) => {
    const tmp = `${o.committeeFile}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`);
    renameSync(tmp, o.committeeFile);
  };
  if (added) {
    const entry = JSON.stringify(added);
    if (o.writeCommittee !== false) {
      write({ ...raw, deployments: [...((raw.deployments as unknown[] | undefined) ?? []), added] });
      say(`committee file ${o.committeeFile}: added ${entry} to "deployments" (config digest ${expected}); give every node and aggregator operator the new file`);
    } else say(`add to "deployments" of committee file ${o.committeeFile}: ${entry} (config digest ${expected})`);
  } else if (target.kind === 'primary' && o.writeCommittee !== false && String(raw.hub).toLowerCase() !== hub.address.toLowerCase()) {
    write({ ...raw, hub: hub.address });
    say(`committee file ${o.committeeFile}: hub ${hub.address} (config digest ${expected})`);
  }
  return {
    hub: hub.address,
    factory: factory.address,
    deployed: { hub: hub.receipt !== undefined, factory: factory.receipt !== undefined, proxy },
    hubCodeHash,
    factoryCodeHash,
    configDigest: expected,
    gasUsed,
    solcVersion: compiled.solcVersion,
    ...(o.deployment !== undefined ? { deployment: { chainId: String(target.chainId), ...(target.name !== undefined ? { name: target.name } : {}), added: added !== undefined } } : {}),
  };
}
