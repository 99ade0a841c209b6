/** Shared setup for the contract suites: compile once (cached) with the test-only sources. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileContracts, ROOT, type CompileOutput } from '../../contracts/compile.ts';

export const TEST_SOURCES = {
  'test/BLSHarness.sol': readFileSync(join(ROOT, 'test', 'contracts', 'BLSHarness.sol'), 'utf8'),
};

export function compileWithTests(): CompileOutput {
  return compileContracts({ extraSources: TEST_SOURCES });
}
