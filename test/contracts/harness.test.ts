/** The chain harness: cached compilation, anvil lifecycle, deployment. */
import { describe, expect, it } from 'vitest';
import { compileContracts, artifact, CompileError } from '../../contracts/compile.ts';
import { startAnvil } from '../../contracts/anvil.ts';
import { deploy } from '../../contracts/deploy.ts';
import { compileWithTests } from './helpers.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('chain harness', () => {
  it('compiles deterministically and serves repeated calls from the cache', () => {
    const a = compileContracts();
    const b = compileContracts();
    expect(b.cacheKey).toBe(a.cacheKey);
    expect(artifact('AegisHub', a).bytecode).toMatch(/^0x[0-9a-f]+$/);
    expect(() => artifact('NoSuchContract', a)).toThrow(CompileError);
  });

  it('starts anvil on a free loopback port, deploys, and stop() ends exactly that process', async () => {
    const anvil = await startAnvil();
    try {
      expect(anvil.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(alive(anvil.pid)).toBe(true);
      const bls = await deploy(await anvil.signer(0), 'BLSHarness', [], { compiled: compileWithTests() });
      expect(await bls.getAddress()).toMatch(/^0x[0-9a-fA-F]{40}$/);
    } finally {
      await anvil.stop();
    }
    expect(alive(anvil.pid)).toBe(false);
    await anvil.stop(); // idempotent
  });
});
