/**
 * Gas of the Chainlink adapters for the benchmark (`npm run bench -- --json` gas rows with
 * `op: "deployAdapter"` and `op: "adapter.*"`): deployment through the factory (receipt
 * gasUsed) and the reads a consumer makes, each as the gas of a transaction making that one
 * call (anvil's exact estimate, incl. the 21,000 base), with the feed Active and served twice.
 * Runs on its own bench anvil, so the hub rows of `gas.ts` are untouched. Reads do not
 * depend on the committee size; n = 4.
 *
 *   const rows = await adapterGasRows();
 */
import type { Contract } from 'ethers';
import type { GasRow } from './stats.ts';
import { dealerKeygen } from '../protocol/index.ts';
import { feedId, reportMessage } from '../protocol/report.ts';
import { compileContracts } from '../contracts/compile.ts';
import { attach, deploy } from '../contracts/deploy.ts';
import { startBenchAnvil } from './gas.ts';
import { deployHub, feedConfig, makeReport, secretSign } from '../contracts/hub.ts';

/** A fixed group secret (bench-only), so signatures and so calldata gas repeat run to run. */
const SECRET = 0x0adab7e20adab7e20adab7e20adab7e20adab7e20adab7e20adab7e20adab7en;
const LIMIT = { gasLimit: 16_000_000n };

export async function adapterGasRows(): Promise<GasRow[]> {
  const anvil = await startBenchAnvil();
  try {
    const compiled = compileContracts();
    const committee = dealerKeygen(3, 4, SECRET);
    const signer = await anvil.signer(0);
    const hub = await deployHub(signer, committee, { compiled });
    const id = feedId('F0/USD');
    await (await hub.addFeed!(id, feedConfig({ description: 'F0 / USD' }), LIMIT)).wait();
    const batches = [10, 100].map((size) => Array.from({ length: size }, (_, i) => feedId(`B${size}-${i}/USD`)));
    for (const b of batches.flat()) await (await hub.addFeed!(b, feedConfig({ description: b }), LIMIT)).wait();
    for (let epoch = 1n; epoch <= 2n; epoch++) {
      const observedAt = await anvil.now();
      const report = await makeReport(hub, { epoch, observedAt, feedIds: [id], answers: [6_000_000_000_000n + epoch * 1_000_000n] });
      await (await hub.transmit!(report, secretSign(SECRET, reportMessage(report)), LIMIT)).wait();
    }
    const factory = await deploy(signer, 'AegisAggregatorV3Factory', [], { compiled });
    const hubAddress = await hub.getAddress();
    const gasUsed = async (tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<number> => Number((await (await tx).wait())!.gasUsed);
    const lenientGas = await gasUsed(factory.create!(hubAddress, id, LIMIT));
    const strictGas = await gasUsed(factory.createStrict!(hubAddress, id, 0, LIMIT));
    const batchGas: number[] = [];
    for (const batch of batches) batchGas.push(await gasUsed(factory.createMany!(hubAddress, batch, false, 0, LIMIT)));
    const lenient = attach('AegisAggregatorV3', await factory.adapterOf!(hubAddress, id), signer, compiled);
    const strict = attach('AegisAggregatorV3Strict', await factory.strictAdapterOf!(hubAddress, id, 0), signer, compiled);
    const rows: GasRow[] = [
      { system: 'aegis', op: 'deployAdapter', n: 4, feeds: 1, gas: lenientGas, note: 'factory.create: one lenient adapter (EIP-1167 clone), incl. the 21,000 base' },
      { system: 'aegis', op: 'deployAdapter', n: 4, feeds: 1, gas: strictGas, note: 'factory.createStrict: one strict adapter (EIP-1167 clone), incl. the 21,000 base' },
      ...batches.map((batch, i) => ({
        system: 'aegis',
        op: 'deployAdapter',
        n: 4,
        feeds: batch.length,
        gas: batchGas[i]!,
        note: `factory.createMany: ${batch.length} lenient adapters, ${Math.round(batchGas[i]! / batch.length).toLocaleString('en-US')} per feed`,
      })),
    ];
    for (const [adapter, kind] of [[lenient, 'lenient'], [strict, 'strict']] as [Contract, string][]) {
      for (const fn of ['latestRoundData', 'latestAnswer']) {
        rows.push({ system: 'aegis', op: `adapter.${fn}`, n: 4, feeds: 1, gas: Number(await adapter[fn]!.estimateGas()), note: `${kind} adapter, Active feed: a transaction making only this call` });
      }
    }
    rows.push({ system: 'aegis', op: 'hub.read', n: 4, feeds: 1, gas: Number(await hub.read!.estimateGas(id, 0)), note: 'the hub read the adapters forward to, for comparison' });
    return rows;
  } finally {
    await anvil.stop();
  }
}

/** `npm run bench` section: the adapters' deployment and read gas. */
export async function benchSection(o: { quick: boolean; progress: (msg: string) => void }): Promise<{ gas: GasRow[] }> {
  o.progress('Chainlink adapters: deployment and reads');
  return { gas: await adapterGasRows() };
}
