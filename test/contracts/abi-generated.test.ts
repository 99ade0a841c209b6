/**
 * The committed ABIs in contracts/abi/ are exactly what the contracts compile to, every
 * function, event and error with its parameter names: the TypeScript side cannot drift from the
 * Solidity side. A failure names the file; the fix is `npm run compile`.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ABI_CONTRACTS, ABI_DIR, abiText } from '../../contracts/abi.ts';
import { compileContracts } from '../../contracts/compile.ts';
import { HUB_ABI } from '../../aggregator/chain/hub-abi.ts';

describe('generated ABIs', () => {
  it.each(ABI_CONTRACTS.map((n) => [n]))('contracts/abi/%s.json equals a fresh compile', (name) => {
    const committed = readFileSync(join(ABI_DIR, `${name}.json`), 'utf8');
    expect(committed, `contracts/abi/${name}.json is out of date: run npm run compile`).toBe(abiText(compileContracts(), name));
  });

  it('the aggregator uses the generated hub ABI, events included', () => {
    const events = (HUB_ABI as { type: string; name: string }[]).filter((f) => f.type === 'event').map((f) => f.name);
    expect(events).toEqual(expect.arrayContaining(['ReportAccepted', 'FeedUpdated', 'FeedSkipped', 'CommitteeRotated']));
  });
});
