/**
 * The transmitter against a real anvil and a deployed AegisHub: simulation first, EIP-1559
 * fee cap, serialized nonces, a stuck transaction replaced with a bumped fee, hub errors
 * decoded by name, retries only for transport errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Interface, isError, makeError, Wallet } from 'ethers';
import pino from 'pino';
import { feedId } from '../../protocol/index.ts';
import { ANVIL_KEYS, startAnvil, type Anvil } from '../../contracts/anvil.ts';
import { artifact } from '../../contracts/compile.ts';
import { addFeeds, deployHub } from '../../contracts/hub.ts';
import { dealerKeygen } from '../../protocol/index.ts';
import { Transmitter } from '../../aggregator/chain/transmitter.ts';
import { EthersHubReader } from '../../aggregator/chain/hub.ts';
import { hubInterface } from '../../aggregator/chain/hub-abi.ts';
import { withRetry } from '../../aggregator/chain/retry.ts';
import { RoundEngine } from '../../aggregator/round/index.ts';
import type { SignedReport } from '../../aggregator/round/types.ts';
import { makeReferenceNodes, makeTestCommittee } from '../../testkit/reference-node/node.ts';

const BTC = feedId('BTC/USD').toLowerCase();
let anvil: Anvil;
let hubAddress: string;
let engine: RoundEngine;
let reader: EthersHubReader;

async function signed(epoch: bigint): Promise<SignedReport> {
  const r = await engine.run(epoch, [BTC]);
  if (!r.signed) throw new Error(r.failure?.message);
  return r.signed;
}

function transmitter(over: Partial<ConstructorParameters<typeof Transmitter>[0]> = {}): Transmitter {
  return new Transmitter({
    provider: anvil.provider,
    wallet: new Wallet(ANVIL_KEYS[1]!),
    hub: hubAddress,
    chainId: BigInt(anvil.chainId),
    maxFeePerGasWei: 100_000_000_000n,
    pollMs: 50,
    logger: pino({ level: 'silent' }),
    ...over,
  });
}

beforeAll(async () => {
  anvil = await startAnvil();
  const dealt = dealerKeygen(3, 4);
  const hub = await deployHub(anvil.wallet(0), dealt);
  hubAddress = await hub.getAddress();
  await addFeeds(hub, ['BTC/USD']);
  const tc = makeTestCommittee({ n: 4, dealt, hub: hubAddress, chainId: BigInt(anvil.chainId) });
  let tick = 0n;
  const { clients } = makeReferenceNodes(tc, () => 6_000_000_000_000n + tick++, () => Math.floor(Date.now() / 1000) + Number(tick));
  engine = new RoundEngine({ committee: tc.committee, clients });
  reader = new EthersHubReader(hubAddress, anvil.provider);
});

afterAll(async () => {
  await anvil?.stop();
});

describe('transmitter on anvil', () => {
  it('simulates, sends, and reports gas of an accepted report; the hub reader sees it', async () => {
    const tx = transmitter();
    const out = await tx.transmit(await signed(10n));
    expect(out.status).toBe('accepted');
    if (out.status !== 'accepted') return;
    expect(out.gasUsed > 0n).toBe(true);
    expect(out.feeWei).toBe(out.gasUsed * out.effectiveGasPrice);
    expect(await reader.latestEpoch()).toBe(10n);
    const st = (await reader.feedStates([BTC, feedId('NOPE/USD')])).get(BTC)!;
    expect(st).toMatchObject({ configured: true, status: 'active', roundId: 1n });
    expect((await reader.feedStates([feedId('NOPE/USD')])).get(feedId('NOPE/USD').toLowerCase())?.configured).toBe(false);
  });

  it('classifies a report for an epoch already posted as superseded, without sending', async () => {
    const tx = transmitter();
    const nonce = await anvil.provider.getTransactionCount(tx.address);
    const out = await tx.transmit(await signed(9n));
    expect(out).toMatchObject({ status: 'superseded', stage: 'simulation', error: { name: 'EpochNotAboveLast', args: { given: '9', last: '10' } } });
    expect(await anvil.provider.getTransactionCount(tx.address)).toBe(nonce);
  });

  it('serializes concurrent transmissions on one nonce sequence', async () => {
    const tx = transmitter();
    const [a, b] = await Promise.all([tx.transmit(await signed(11n)), tx.transmit(await signed(12n))]);
    expect([a.status, b.status]).toEqual(['accepted', 'accepted']);
    expect(await reader.latestEpoch()).toBe(12n);
  });

  it('sends nothing when base fee + tip exceed the cap, and says so', async () => {
    const tx = transmitter({ maxFeePerGasWei: 1n });
    const out = await tx.transmit(await signed(13n));
    expect(out).toMatchObject({ status: 'failed', code: 'fee_cap_exceeded' });
    expect(out.status === 'failed' && out.message).toMatch(/exceeds the cap maxFeePerGas=1 wei; raise chain.maxFeePerGasGwei/);
  });

  it('replaces a stuck transaction with a bumped fee (same nonce)', async () => {
    const tx = transmitter({ replaceAfterMs: 300, priorityFeeWei: 1_000_000_000n });
    await anvil.provider.send('evm_setAutomine', [false]);
    try {
      const pending = tx.transmit(await signed(14n));
      // Leave it in the pool long enough for at least one replacement, then mine.
      await new Promise((r) => setTimeout(r, 1200));
      await anvil.provider.send('evm_mine', []);
      const out = await pending;
      expect(out.status).toBe('accepted');
      if (out.status !== 'accepted') return;
      expect(out.replacements).toBeGreaterThanOrEqual(1);
      const mined = await anvil.provider.getTransaction(out.txHash);
      expect(mined!.maxPriorityFeePerGas! > 1_000_000_000n).toBe(true);
    } finally {
      await anvil.provider.send('evm_setAutomine', [true]);
    }
    expect(await reader.latestEpoch()).toBe(14n);
  });

  it('knows every custom error and the functions it calls of the compiled hub', () => {
    const compiled = artifact('AegisHub').abi as { type: string; name: string; inputs: { type: string; components?: unknown }[] }[];
    const ours = new Set(hubInterface.fragments.filter((f) => f.type === 'error' || f.type === 'function').map((f) => f.format('sighash')));
    const theirs = new Interface(compiled as never);
    for (const f of theirs.fragments) {
      if (f.type === 'error') expect(ours, `hub error ${f.format('sighash')} missing from HUB_ABI`).toContain(f.format('sighash'));
    }
    for (const name of ['transmit', 'verifyReport', 'latestEpoch', 'configDigest', 'feedIds', 'tryRead', 'read', 'latestRoundId']) {
      expect(hubInterface.getFunction(name)!.selector).toBe(theirs.getFunction(name)!.selector);
    }
  });
});

describe('RPC retries', () => {
  it('retries transport errors with backoff, not reverts', async () => {
    let calls = 0;
    const v = await withRetry('x', async () => {
      if (++calls < 3) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8545'), { code: 'ECONNREFUSED' });
      return 42;
    }, { attempts: 5, baseMs: 1, maxMs: 5 });
    expect([v, calls]).toEqual([42, 3]);
    let reverts = 0;
    await expect(
      withRetry('y', async () => {
        reverts++;
        throw makeError('execution reverted', 'CALL_EXCEPTION', { action: 'call', data: '0x', reason: null, transaction: { to: null, data: '0x' }, invocation: null, revert: null });
      }, { attempts: 5, baseMs: 1, maxMs: 5 }),
    ).rejects.toSatisfy((e: unknown) => isError(e, 'CALL_EXCEPTION'));
    expect(reverts).toBe(1);
  });
});
