import { ceremonyFor, dkgPlayers, makeNodes, run } from './harness.ts';
const nodes = makeNodes(19);
const t0 = performance.now();
run(dkgPlayers(ceremonyFor('prof', 13, nodes), nodes));
console.log('19', performance.now() - t0);
