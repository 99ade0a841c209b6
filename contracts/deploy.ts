/**
 * Deployment helpers over ethers v6 and the compiled artifacts.
 */
import { ContractFactory, type BaseContract, type ContractRunner, type Signer, Contract, Interface } from 'ethers';
import { artifact, compileContracts, type CompileOutput } from './compile.ts';

export interface DeployOptions {
  /** Precompiled output (default: `compileContracts()`, cached). */
  compiled?: CompileOutput;
  /** Gas limit override for the deployment transaction. */
  gasLimit?: bigint;
}

/** Deploys contract `name` with constructor `args`; resolves once mined. */
export async function deploy(signer: Signer, name: string, args: unknown[] = [], opts: DeployOptions = {}): Promise<Contract> {
  const a = artifact(name, opts.compiled ?? compileContracts());
  const factory = new ContractFactory(a.abi as never, a.bytecode, signer);
  const overrides = opts.gasLimit !== undefined ? { gasLimit: opts.gasLimit } : {};
  const c = (await factory.deploy(...args, overrides)) as BaseContract;
  await c.waitForDeployment();
  return new Contract(await c.getAddress(), a.abi as never, signer);
}

/** A handle on an already deployed contract `name` at `address`. */
export function attach(name: string, address: string, runner: ContractRunner, compiled?: CompileOutput): Contract {
  return new Contract(address, artifact(name, compiled ?? compileContracts()).abi as never, runner);
}

/** The ethers `Interface` of contract `name` (for decoding errors and events). */
export function iface(name: string, compiled?: CompileOutput): Interface {
  return new Interface(artifact(name, compiled ?? compileContracts()).abi as never);
}
