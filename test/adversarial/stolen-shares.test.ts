/**
 * Threat model, "stolen keystore / shares below t": an attacker holding t − 1 key shares of a
 * committee (n = 7, t = 5), taken from a dealer run or from decrypted keystores, tries to get a
 * forged report accepted by the real AegisHub on anvil: every (t − 1)-subset combined as if it
 * were the threshold, each completed by a guessed or duplicated share, and the group secret
 * "reconstructed" from them. And a keystore stolen without its password must not decrypt.
 *
 * Each attack is checked off-chain (the group key) and on-chain (`transmit` reverts with
 * `SignatureInvalid`, the hub's epoch and price stay put); t real shares are the control that
 * shows the same path succeeds when the attacker really has the threshold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { hexlify, type Contract } from 'ethers';
import {
  BlsError,
  combinePartials,
  dealerKeygen,
  feedId,
  Fr,
  G2,
  lagrangeAtZero,
  partialSign,
  randomScalar,
  reportMessage,
  scalarToBytes,
  signatureToEvm,
  verifyGroupSignature,
  type DealerOutput,
  type KeyShare,
  type Report,
} from '../../protocol/index.ts';
import { startAnvil, type Anvil } from '../../contracts/anvil.ts';
import { addFeeds, deployHub, makeReport } from '../../contracts/hub.ts';
import { DEFAULT_KDF, importBlsShare, importIdentity, KeystoreError, loadBlsShare, loadIdentity } from '../../node/keys/index.ts';
import { hubRevert } from './live-committee.ts';

const N = 7;
const T = 5;
const BTC = feedId('BTC/USD');
let anvil: Anvil;
let hub: Contract;
let dealer: DealerOutput;
let dir: string;
let epoch = 0n;

/** Every k-subset of 1..n. */
function subsets(n: number, k: number): number[][] {
  const out: number[][] = [];
  const walk = (start: number, acc: number[]): void => {
    if (acc.length === k) return void out.push([...acc]);
    for (let i = start; i <= n; i++) walk(i + 1, [...acc, i]);
  };
  walk(1, []);
  return out;
}

/** A fresh forged report: BTC at 1,000,000 USD, newer than anything on the hub. */
async function forgedReport(): Promise<Report> {
  epoch = epoch > BigInt(Date.now()) ? epoch + 1n : BigInt(Date.now());
  return makeReport(hub, { epoch, observedAt: await anvil.now(), feedIds: [BTC], answers: [1_000_000n * 10n ** 8n] });
}

async function hubState(): Promise<{ epoch: bigint; round: bigint }> {
  return { epoch: BigInt(await hub.latestEpoch!()), round: BigInt(await hub.latestRoundId!(BTC)) };
}

/** `signature` is the 48-byte compressed form the combiner returns. */
async function expectRejected(report: Report, signature: Uint8Array): Promise<void> {
  expect(verifyGroupSignature(signature, reportMessage(report), dealer.groupPublicKey)).toBe(false);
  expect(await hubRevert(hub, hub.transmit!.staticCall(report, hexlify(signatureToEvm(signature))))).toEqual({ name: 'SignatureInvalid', args: [hexlify(reportMessage(report))] });
}

const sharesAt = (indices: readonly number[]): KeyShare[] => indices.map((i) => dealer.shares[i - 1]!);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aegis-stolen-'));
  anvil = await startAnvil();
  dealer = dealerKeygen(T, N);
  hub = await deployHub(anvil.wallet(0), dealer);
  await addFeeds(hub, ['BTC/USD']);
});

afterAll(async () => {
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('t − 1 stolen shares cannot produce a signature the hub accepts', () => {
  it('control: t real shares sign a report the hub accepts (the same path the attacks below take)', async () => {
    const report = await forgedReport();
    const partials = sharesAt([2, 3, 5, 6, 7]).map((s) => partialSign(s, reportMessage(report)));
    const sig = combinePartials(partials, T);
    expect(verifyGroupSignature(sig, reportMessage(report), dealer.groupPublicKey)).toBe(true);
    await (await hub.transmit!(report, hexlify(signatureToEvm(sig)))).wait();
    expect((await hubState()).epoch).toBe(report.epoch);
  });

  it('every (t − 1)-subset, interpolated as if it were the threshold, is rejected on-chain with SignatureInvalid', async () => {
    const before = await hubState();
    const report = await forgedReport();
    const m = reportMessage(report);
    const all = subsets(N, T - 1);
    expect(all).toHaveLength(35);
    for (const idx of all) {
      const sig = combinePartials(sharesAt(idx).map((s) => partialSign(s, m)), T - 1);
      await expectRejected(report, sig);
    }
    // The real combiner refuses to interpolate t − 1 partials at threshold t.
    const short = sharesAt(all[0]!).map((s) => partialSign(s, m));
    expect(() => combinePartials(short, T)).toThrow(BlsError);
    try {
      combinePartials(short, T);
    } catch (err) {
      expect((err as BlsError).code).toBe('too_few_partials');
    }
    expect(await hubState()).toEqual(before);
  });

  it('t − 1 shares completed by a guessed share, or a stolen share replayed under a missing index, are rejected', async () => {
    const before = await hubState();
    const report = await forgedReport();
    const m = reportMessage(report);
    for (const idx of subsets(N, T - 1)) {
      const missing = [1, 2, 3, 4, 5, 6, 7].find((i) => !idx.includes(i))!;
      const stolen = sharesAt(idx).map((s) => partialSign(s, m));
      // A random guess for the missing share (the attacker's best: it is uniform in Fr).
      const guessed = partialSign({ index: missing, secret: randomScalar() }, m);
      await expectRejected(report, combinePartials([...stolen, guessed], T));
      // One stolen share claimed again under the missing index.
      const replayed = partialSign({ index: missing, secret: dealer.shares[idx[0]! - 1]!.secret }, m);
      await expectRejected(report, combinePartials([...stolen, replayed], T));
    }
    expect(await hubState()).toEqual(before);
  });

  it('the group secret "reconstructed" from t − 1 shares is not the group key, and its signature is rejected', async () => {
    const before = await hubState();
    for (const idx of subsets(N, T - 1).slice(0, 5)) {
      const lambdas = lagrangeAtZero(idx);
      const guess = idx.reduce((acc, i, k) => Fr.add(acc, Fr.mul(lambdas[k]!, dealer.shares[i - 1]!.secret)), 0n);
      expect(bytesToHex(G2.BASE.multiply(guess).toBytes())).not.toBe(bytesToHex(dealer.groupPublicKey));
      const report = await forgedReport();
      await expectRejected(report, partialSign({ index: 1, secret: guess }, reportMessage(report)).signature);
    }
    expect(await hubState()).toEqual(before);
  });

  it('a forged report sent anyway (past the simulation) reverts on-chain and moves nothing', async () => {
    const before = await hubState();
    const report = await forgedReport();
    const sig = combinePartials(sharesAt([1, 2, 3, 4]).map((s) => partialSign(s, reportMessage(report))), T - 1);
    const tx = await anvil.wallet(2).sendTransaction({ to: await hub.getAddress(), data: hub.interface.encodeFunctionData('transmit', [report, hexlify(signatureToEvm(sig))]), gasLimit: 3_000_000n });
    const receipt = await tx.wait().catch(() => anvil.provider.getTransactionReceipt(tx.hash));
    expect(receipt?.status).toBe(0);
    expect(await hubState()).toEqual(before);
  });
});

describe('a stolen keystore without its password does not decrypt', () => {
  it('a share keystore at the production KDF refuses wrong passwords with wrong_password and holds no plaintext secret', async () => {
    const share = dealer.shares[2]!;
    const file = join(dir, 'share.json');
    const password = 'correct horse battery staple, node 3';
    const secretHex = bytesToHex(scalarToBytes(share.secret));
    await importBlsShare(file, secretHex, { index: 3, n: N, t: T, groupPublicKey: hexlify(dealer.groupPublicKey) }, { password, kdf: DEFAULT_KDF });
    const stolen = readFileSync(file, 'utf8');
    expect(stolen.toLowerCase()).not.toContain(secretHex.toLowerCase());
    // The file names the work factor every guess costs: EIP-2335's scrypt at n = 2^18.
    const crypto = (JSON.parse(stolen) as { crypto: { kdf: { function: string; params: { n: number } } } }).crypto;
    expect(crypto.kdf.function).toBe('scrypt');
    expect(crypto.kdf.params.n).toBe(262_144);
    // One near miss (each guess costs the thief a full scrypt; more guesses only slow the test).
    const err = await loadBlsShare(file, 'correct horse battery staple, node 4').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KeystoreError);
    expect((err as KeystoreError).code).toBe('wrong_password');
    // Control: with the password it decrypts to the share.
    expect((await loadBlsShare(file, password)).share).toEqual({ index: 3, secret: share.secret });
  });

  it('an identity keystore refuses a wrong password the same way', async () => {
    const file = join(dir, 'identity.json');
    const secret = ed25519.utils.randomSecretKey();
    await importIdentity(file, bytesToHex(secret), { password: 'identity password', kdf: { function: 'pbkdf2', c: 16 } });
    for (const guess of ['', 'identity passwore', 'identity password ', 'Identity password']) {
      const err = await loadIdentity(file, guess).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(KeystoreError);
      expect((err as KeystoreError).code).toBe('wrong_password');
    }
    expect(readFileSync(file, 'utf8').toLowerCase()).not.toContain(bytesToHex(secret));
  });
});
