/**
 * A real Safe multisig on anvil from the compiled artifacts shipped in
 * `@safe-global/safe-contracts` 1.4.1 (`build/artifacts`, built by Safe with solc 0.7.6; the
 * sources' pragma `>=0.7.0 <0.9.0` would also take 0.8.30, but the shipped bytecode is the
 * audited release). Singleton + SafeProxyFactory, a proxy set up with `setup`, and
 * `execTransaction` with owners' ECDSA signatures sorted by owner address.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Contract, ContractFactory, SigningKey, Wallet, concat, getBytes, type InterfaceAbi, type Signer, type TransactionReceipt } from 'ethers';
import { ROOT } from '../../../contracts/compile.ts';

const ARTIFACTS = join(ROOT, 'node_modules', '@safe-global', 'safe-contracts', 'build', 'artifacts', 'contracts');
const ZERO = '0x0000000000000000000000000000000000000000';

function load(rel: string): { abi: InterfaceAbi; bytecode: string } {
  const a = JSON.parse(readFileSync(join(ARTIFACTS, rel), 'utf8')) as { abi: InterfaceAbi; bytecode: string };
  return { abi: a.abi, bytecode: a.bytecode };
}

export interface SafeHandle {
  safe: Contract;
  address: string;
  owners: Wallet[];
  threshold: number;
  /** Signs with `signers` (owner wallets) and submits `execTransaction` from `relayer`. */
  exec(to: string, data: string, signers: Wallet[], relayer: Signer): Promise<TransactionReceipt>;
}

/** Deploys singleton, factory and a Safe proxy with `owners` and `threshold`. */
export async function deploySafe(deployer: Signer, owners: Wallet[], threshold: number): Promise<SafeHandle> {
  const singletonArt = load('Safe.sol/Safe.json');
  const factoryArt = load('proxies/SafeProxyFactory.sol/SafeProxyFactory.json');
  const singleton = await new ContractFactory(singletonArt.abi, singletonArt.bytecode, deployer).deploy();
  await singleton.waitForDeployment();
  const factory = (await new ContractFactory(factoryArt.abi, factoryArt.bytecode, deployer).deploy()) as Contract;
  await factory.waitForDeployment();
  const ownerAddrs = owners.map((o) => o.address);
  const init = singleton.interface.encodeFunctionData('setup', [ownerAddrs, threshold, ZERO, '0x', ZERO, ZERO, 0, ZERO]);
  const rc = (await (await factory.createProxyWithNonce!(await singleton.getAddress(), init, 1n)).wait()) as TransactionReceipt;
  const ev = rc.logs.map((l) => factory.interface.parseLog(l)).find((e) => e?.name === 'ProxyCreation')!;
  const address = ev.args[0] as string;
  const safe = new Contract(address, singletonArt.abi, deployer);
  return {
    safe,
    address,
    owners,
    threshold,
    exec: async (to, data, signers, relayer) => {
      const nonce = (await safe.nonce!()) as bigint;
      const hash = (await safe.getTransactionHash!(to, 0n, data, 0, 0n, 0n, 0n, ZERO, ZERO, nonce)) as string;
      const sorted = [...signers].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
      const sigs = concat(sorted.map((w) => new SigningKey(w.privateKey).sign(getBytes(hash)).serialized));
      const tx = await (safe.connect(relayer) as Contract).execTransaction!(to, 0n, data, 0, 0n, 0n, 0n, ZERO, ZERO, sigs);
      return (await tx.wait())!;
    },
  };
}
