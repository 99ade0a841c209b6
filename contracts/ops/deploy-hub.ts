/**
 * `aegis hub deploy`: the hub (and the adapter factory) for a committee at deterministic
 * addresses, verified byte for byte against the local build, with the hub's address written
 * into the committee file. Idempotent: run it again and it finds both contracts, verifies them
 * and rewrites nothing else. A fresh hub starts at configVersion 1; later committees reach it
 * by rotation (docs/key-ceremony.md), never by a new deployment.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { AbiCoder, Contract, concat, getAddress, getBytes, hexlify, id, type Signer } from 'ethers';
import { g2ToEip2537 } from '../../protocol/bls/index.ts';
import { committeeConfigDigest, parseCommittee } from '../../protocol/committee.ts';
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
  /** Write the hub address into the committee file (default true). */
  writeCommittee?: boolean;
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
  if (chainId !== Number(committee.chainId)) {
    throw new DeployError('deploy_failed', `committee file ${o.committeeFile} is for chain ${committee.chainId}, the RPC serves chain ${chainId}; point --rpc at chain ${committee.chainId} or fix "chainId"`);
  }
  if (Number(committee.configVersion) !== 1) {
    throw new DeployError('deploy_failed', `committee file ${o.committeeFile} has configVersion ${committee.configVersion}; a new hub starts at configVersion 1 (a later committee reaches an existing hub by rotation: aegis dkg rotate)`);
  }
  const compiled = o.compiled ?? compileContracts();
  const confirmations = o.confirmations ?? 2;
  const salt = o.salt ?? DEFAULT_SALT;
  const guardian = getAddress(o.guardian ?? (await o.signer.getAddress()));
  const committeeArg = { groupPublicKey: hexlify(g2ToEip2537(getBytes(committee.groupPublicKey))), n: committee.nodes.length, t: committee.t };
  const hubInit = initCode(compiled, 'AegisHub', [guardian, o.maxFutureDriftSec ?? 60, o.maxReportAgeSec ?? 300, [committeeArg.groupPublicKey, committeeArg.n, committeeArg.t]]);
  const factoryInit = initCode(compiled, 'AegisAggregatorV3Factory', []);
  say(`hub ${deterministicAddress(salt, hubInit)} and adapter factory ${deterministicAddress(salt, factoryInit)} on chain ${chainId} (solc ${compiled.solcVersion}, salt ${salt})`);

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

  const expected = committeeConfigDigest({ ...committee, hub: hub.address }).toLowerCase();
  const onChain = String(await hubContract.getFunction('configDigest').staticCall()).toLowerCase();
  if (onChain !== expected) throw new DeployError('address_mismatch', `hub ${hub.address}: config digest ${onChain} on chain, ${expected} from the committee file; the hub at this address was deployed for another committee`);

  if (o.writeCommittee !== false && String(raw.hub).toLowerCase() !== hub.address.toLowerCase()) {
    const tmp = `${o.committeeFile}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ ...raw, hub: hub.address }, null, 2)}\n`);
    renameSync(tmp, o.committeeFile);
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
  };
}
