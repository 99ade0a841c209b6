/**
 * The committed ABIs in contracts/abi/ are exactly what the contracts compile to, every
 * function, event and error with its parameter names: the TypeScript side cannot drift from the
 * Solidity side. A failure names the file; the fix is `npm run compile`. The product compile
 * behind them holds only `contracts/src` (test-only contracts live in `contracts/test` and
 * `contracts/mock`, compiled apart by `compileTestContracts`).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ABI_CONTRACTS, ABI_DIR, abiText } from '../../contracts/abi.ts';
import { compileContracts, compileTestContracts, testArtifact } from '../../contracts/compile.ts';
import { HUB_ABI } from '../../aggregator/chain/hub-abi.ts';

describe('generated ABIs', () => {
  it.each(ABI_CONTRACTS.map((n) => [n]))('contracts/abi/%s.json equals a fresh compile', (name) => {
    const committed = readFileSync(join(ABI_DIR, `${name}.json`), 'utf8');
    expect(committed, `contracts/abi/${name}.json is out of date: run npm run compile`).toBe(abiText(compileContracts(), name));
  });

  it('the product compile holds only contracts/src and the packages it imports; test-only contracts come from the test set', () => {
    const product = compileContracts();
    const units = [...new Set(Object.values(product.contracts).map((a) => a.sourceName))];
    expect(units.filter((u) => !u.startsWith('src/') && !u.startsWith('@'))).toEqual([]);
    expect(units).toEqual(expect.arrayContaining(['src/AegisHub.sol', 'src/interfaces/IAegisHub.sol']));
    expect(Object.keys(product.contracts)).not.toContain('TestToken');
    const tests = compileTestContracts();
    expect(new Set(Object.values(tests.contracts).map((a) => a.sourceName.split('/')[0]))).toEqual(new Set(['test', 'mock']));
    expect(testArtifact('TestToken', tests).sourceName).toBe('mock/TestToken.sol');
    expect(() => testArtifact('AegisHub', tests)).toThrow(/a product contract comes from artifact\(\)/);
  }, 300_000);

  it('the aggregator uses the generated hub ABI, events included', () => {
    const events = (HUB_ABI as { type: string; name: string }[]).filter((f) => f.type === 'event').map((f) => f.name);
    expect(events).toEqual(expect.arrayContaining(['ReportAccepted', 'FeedUpdated', 'FeedSkipped', 'CommitteeRotated']));
  });
});
