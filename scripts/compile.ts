/**
 * `npm run compile [-- --force]`: compile `contracts/src` with solc-js into the cache under
 * `.cache/solc` (every other command compiles on demand; this warms the cache and lists what
 * was built, with each contract's deployed size against the EIP-170 limit), and regenerate
 * the committed ABIs in `contracts/abi/`.
 */
import { relative } from 'node:path';
import { writeAbis } from '../contracts/abi.ts';
import { ROOT, compileContracts } from '../contracts/compile.ts';

const force = process.argv.includes('--force');
const started = performance.now();
const out = compileContracts({ force });
const names = Object.keys(out.contracts).filter((k) => !k.includes(':')).sort();
for (const name of names) {
  const size = (out.contracts[name]!.deployedBytecode.length - 2) / 2;
  // Libraries of internal functions deploy a 3-byte stub: not worth a line.
  if (size > 3) console.log(`${name.padEnd(32)} ${String(size).padStart(6)} bytes${size > 24_576 ? '  over the EIP-170 limit of 24,576' : ''}`);
}
console.log(`solc ${out.solcVersion}: ${names.length} contracts, cache key ${out.cacheKey}, ${((performance.now() - started) / 1000).toFixed(1)} s`);
const changed = writeAbis(out);
console.log(changed.length ? `ABIs regenerated: ${changed.map((f) => relative(ROOT, f)).join(', ')}` : 'ABIs in contracts/abi are up to date');
