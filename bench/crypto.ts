/**
 * Off-chain cost of the threshold-BLS operations a round performs, at committee sizes n
 * (t = 2f+1): one partial signature, verifying t partials one by one and in one batch, and
 * combining t partials. All four run on mcl-wasm (`mcl.ts`); each includes hashing the
 * message to G1 where the operation does.
 */
import { timingRow, timeIt, type TimingRow } from './stats.ts';
import { batchVerifyPartials, combinePartials, dealerKeygen, defaultThreshold, partialSign, verifyPartial } from '../protocol/bls/index.ts';

export async function benchThresholdBls(sizes: readonly number[], runs = 10, progress: (msg: string) => void = () => {}): Promise<TimingRow[]> {
  const rows: TimingRow[] = [];
  for (const n of sizes) {
    const t = defaultThreshold(n);
    progress(`threshold BLS n=${n} t=${t}`);
    const committee = dealerKeygen(t, n);
    const msg = new Uint8Array(32).fill(n & 0xff);
    let counter = 0;
    const message = () => {
      const m = msg.slice();
      m[0] = counter++ & 0xff;
      return m;
    };
    rows.push(timingRow('partialSign', n, 1, await timeIt(runs, () => partialSign(committee.shares[0]!, message())), 'hash to G1 + one constant-time G1 multiplication'));
    const m = message();
    const partials = committee.shares.slice(0, t).map((s) => partialSign(s, m));
    const shares = committee.publicShares;
    const eachRuns = Math.max(2, Math.round(runs / Math.max(1, t / 7)));
    rows.push(timingRow('verifyEach', n, 1, await timeIt(eachRuns, () => partials.forEach((p) => verifyPartial(p, shares[p.index - 1]!, m))), `${t} partials, one two-pairing check each`));
    rows.push(timingRow('batchVerify', n, 1, await timeIt(runs, () => batchVerifyPartials(partials, shares, m)), `${t} partials, random weights, one two-pairing check`));
    rows.push(timingRow('combine', n, 1, await timeIt(runs, () => combinePartials(partials, t)), `${t} partials, Lagrange at 0`));
  }
  return rows;
}

/** `npm run bench` section: threshold-BLS timings at n = 4, 31, 100. */
export async function benchSection(o: { quick: boolean; progress: (msg: string) => void }): Promise<{ timing: TimingRow[] }> {
  return { timing: await benchThresholdBls(o.quick ? [4, 31] : [4, 31, 100], o.quick ? 3 : 10, o.progress) };
}
