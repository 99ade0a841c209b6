/**
 * Benchmark section "peers" (side-by-side gas against the incumbents, docs/benchmarks.md §Gas): gas of one price update on the
 * incumbents' own contracts, installed from npm, on one anvil (default hardfork) in one run —
 * beside Aegis `transmit` measured on the same anvil — then a table of gas per update and per
 * feed with each peer's ratio to Aegis (`bench-out/peers.{json,md}`) and the scaling charts
 * (`bench-out/gas-vs-n.svg`, `bench-out/gas-vs-feeds.svg`).
 *
 *   npm run bench -- --only peers            # full grid: n = 4, 7, 31, 100 × feeds = 1, 10, 100
 *   npm run bench -- --only peers --quick    # n = 4, 31 × feeds = 1, 10
 *
 * Every number is the receipt `gasUsed` of one accepted update in steady state (each feed's
 * slots written by a warm-up update first); each driver checks delivery (events) and the
 * tests in `test/peers/` read the stored values back. See `bench/peers/README.md` for what
 * one update means per peer.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Signer } from 'ethers';
import type { GasRow } from './stats.ts';
import type { Anvil } from '../contracts/anvil.ts';
import { ROOT } from '../contracts/compile.ts';
import { measureHubGas, startBenchAnvil } from './gas.ts';
import { api3Update, api3WarmUp, setupApi3 } from './peers/api3.ts';
import { lineChart, svgDocument, type Series } from './peers/chart.ts';
import { MAX_TX_DATA_BYTES } from './peers/common.ts';
import { KEYSTONE_MAX_SIGNERS, keystoneUpdate, setupKeystone } from './peers/keystone.ts';
import { redstoneUpdate, setupRedstone } from './peers/redstone.ts';

export interface PeersOptions {
  quick: boolean;
  progress: (msg: string) => void;
  /** Output folder (default `<repo>/bench-out`). */
  out?: string;
  /** Committee sizes (default 4, 7, 31, 100; quick 4, 31). */
  committees?: number[];
  /** Feeds per update (default 1, 10, 100; quick 1, 10). */
  feeds?: number[];
  /** Also measure Aegis `transmit` on the same anvil (default true). */
  aegis?: boolean;
}

export type PeerSystem = 'aegis' | 'chainlink-keystone' | 'api3' | 'redstone';

/** Byzantine tolerance of a committee of n: f = ⌊(n−1)/3⌋. */
const faults = (n: number): number => Math.floor((n - 1) / 3);

/** Runs every peer (and Aegis) on one anvil; returns the gas rows. */
export async function measurePeers(opts: PeersOptions): Promise<GasRow[]> {
  const ns = opts.committees ?? (opts.quick ? [4, 31] : [4, 7, 31, 100]);
  const feeds = opts.feeds ?? (opts.quick ? [1, 10] : [1, 10, 100]);
  const maxFeeds = Math.max(...feeds);
  const rows: GasRow[] = [];
  const anvil = await startBenchAnvil();
  try {
    const signer = await anvil.signer(0);
    const system = (name: string, measure: () => Promise<void>): Promise<void> => fromGenesis(anvil, name, opts.progress, measure);
    await system('chainlink-keystone', () => measureKeystone(anvil, signer, ns, feeds, maxFeeds, rows, opts.progress));
    await system('api3', () => measureApi3(anvil, signer, ns, feeds, maxFeeds, rows, opts.progress));
    await system('redstone', () => measureRedstone(anvil, signer, ns, feeds, maxFeeds, rows, opts.progress, opts.quick));
    if (opts.aegis !== false) await system('aegis', () => measureAegis(anvil, ns, feeds, rows, opts.progress));
  } finally {
    await anvil.stop();
  }
  return rows;
}

/**
 * Runs one system's measurements from the fresh chain and reverts afterwards: each system starts
 * at the genesis clock with deployer nonce 0, so its timestamps, addresses and therefore calldata
 * (and gas) do not depend on how many transactions the systems before it sent.
 */
async function fromGenesis(anvil: Anvil, name: string, progress: (m: string) => void, measure: () => Promise<void>): Promise<void> {
  const snapshot = (await anvil.provider.send('evm_snapshot', [])) as string;
  const t0 = performance.now();
  try {
    await measure();
    progress(`${name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    await anvil.provider.send('evm_revert', [snapshot]);
  }
}

async function measureKeystone(anvil: Anvil, signer: Signer, ns: number[], feeds: number[], maxFeeds: number, rows: GasRow[], progress: (m: string) => void): Promise<void> {
  const committees = [...new Set(ns.map((n) => Math.min(n, KEYSTONE_MAX_SIGNERS)))];
  progress(`chainlink-keystone: deploying KeystoneForwarder + DataFeedsCache, committees ${committees.join(', ')}`);
  const ks = await setupKeystone(signer, { committees, feeds: maxFeeds });
  let ts = Number(await anvil.now());
  let step = 0;
  for (let w = 0; w < 2; w++) await keystoneUpdate(ks, signer, committees[0]!, maxFeeds, ++step, ++ts);
  for (const n of committees) {
    const f = faults(n);
    const capped = ns.some((x) => x > KEYSTONE_MAX_SIGNERS) && n === KEYSTONE_MAX_SIGNERS;
    for (const k of feeds) {
      const { gas } = await keystoneUpdate(ks, signer, n, k, ++step, ++ts);
      const note =
        `KeystoneForwarder.report, ${f + 1} ECDSA sigs (f=${f}) → DataFeedsCache decimal report` +
        (capped ? `; n=${KEYSTONE_MAX_SIGNERS} is the forwarder's maximum (MAX_ORACLES), n=100 impossible` : '');
      rows.push({ system: 'chainlink-keystone', op: 'update', n, feeds: k, gas, note });
      progress(`chainlink-keystone n=${n} feeds=${k}: ${gas.toLocaleString('en-US')} gas`);
    }
  }
}

async function measureApi3(anvil: Anvil, signer: Signer, ns: number[], feeds: number[], maxFeeds: number, rows: GasRow[], progress: (m: string) => void): Promise<void> {
  progress(`api3: deploying Api3ServerV1 (package bytecode), up to ${Math.max(...ns)} airnodes`);
  const ap = await setupApi3(signer, { maxCommittee: Math.max(...ns), feeds: maxFeeds });
  let ts = Number(await anvil.now());
  let step = 0;
  await api3WarmUp(ap, signer, ns, maxFeeds, ++step, ++ts); // every beacon and beacon set written once
  for (const n of ns) {
    for (const k of feeds) {
      const { gas, txs } = await api3Update(ap, signer, n, k, ++step, ++ts);
      const note = `${txs === 1 ? 'one multicall' : `${txs} multicalls (calldata > ${MAX_TX_DATA_BYTES / 1000} kB per tx otherwise)`}: per feed ${n} updateBeaconWithSignedData + updateBeaconSetWithBeacons (median of ${n})`;
      rows.push({ system: 'api3', op: 'update', n, feeds: k, gas, note });
      progress(`api3 n=${n} feeds=${k}: ${gas.toLocaleString('en-US')} gas`);
    }
  }
}

/** RedStone configurations: the issue's 3-of-3 and 3-of-5, then t = 2f+1 of n on the grid. */
export function redstoneConfigs(ns: number[], quick: boolean): { n: number; threshold: number; note: string }[] {
  const named = [
    { n: 3, threshold: 3, note: '3-of-3' },
    { n: 5, threshold: 3, note: '3-of-5' },
  ];
  const grid = ns.map((n) => ({ n, threshold: Math.min(255, 2 * faults(n) + 1), note: `${2 * faults(n) + 1}-of-${n} (t = 2f+1)` }));
  return quick ? [...named.slice(0, 1), ...grid] : [...named, ...grid];
}

async function measureRedstone(anvil: Anvil, signer: Signer, ns: number[], feeds: number[], maxFeeds: number, rows: GasRow[], progress: (m: string) => void, quick: boolean): Promise<void> {
  let step = 0;
  for (const cfg of redstoneConfigs(ns, quick)) {
    const rs = await setupRedstone(signer, { signers: cfg.n, threshold: cfg.threshold, feeds: maxFeeds });
    const ms = async (): Promise<number> => Number(await anvil.now()) * 1000 + ++step;
    await redstoneUpdate(rs, signer, maxFeeds, ++step, await ms()); // warm-up
    for (const k of feeds) {
      const { gas, txs } = await redstoneUpdate(rs, signer, k, ++step, await ms());
      const split = txs === 1 ? '' : `; split over ${txs} txs (calldata > ${MAX_TX_DATA_BYTES / 1000} kB per tx otherwise)`;
      const note = `${cfg.note}; ${cfg.threshold} signed packages in calldata, RedstoneConsumerNumericBase, values stored${split}`;
      rows.push({ system: 'redstone', op: 'update', n: cfg.n, feeds: k, gas, note });
      progress(`redstone ${cfg.threshold}-of-${cfg.n} feeds=${k}: ${gas.toLocaleString('en-US')} gas`);
    }
  }
}

async function measureAegis(anvil: Anvil, ns: number[], feeds: number[], rows: GasRow[], progress: (m: string) => void): Promise<void> {
  for (const n of ns) {
    let g: Awaited<ReturnType<typeof measureHubGas>>;
    try {
      g = await measureHubGas({ n, feeds, anvil });
    } catch (err) {
      // The hub's own harness failed (it is measured by the gas section too): keep the peer rows.
      progress(`aegis n=${n}: measureHubGas failed (${(err as Error).message.slice(0, 160)}); no Aegis rows for this n`);
      continue;
    }
    for (const k of feeds) {
      const gas = g.transmit[k];
      if (gas === undefined) continue;
      rows.push({ system: 'aegis', op: 'transmit', n, feeds: k, gas, note: `threshold BLS ${g.t}-of-${n}, one group signature; same anvil as the peers` });
      progress(`aegis n=${n} feeds=${k}: ${gas.toLocaleString('en-US')} gas`);
    }
  }
}

// -- Table -------------------------------------------------------------------------------------

export interface ComparisonRow {
  system: string;
  n: number;
  feeds: number;
  gas: number;
  gasPerFeed: number;
  /** Aegis transmit gas at the same feeds and the same n (or, for n Aegis was not run at, its smallest n: Aegis is flat in n). */
  aegisGas?: number;
  aegisN?: number;
  /** Peer gas ÷ Aegis gas (same n, same feeds, same run). */
  ratioToAegis?: number;
  /**
   * Marginal gas per feed: (gas − gas at the next smaller feed count) ÷ (feeds difference), same
   * system and n — the slope 1→10 on the 10-feed row, 10→100 on the 100-feed row. What one more
   * feed in an update costs, without the per-update overhead that gas / feed spreads.
   */
  marginalPerFeed?: number;
  note?: string;
}

export function comparison(rows: GasRow[]): ComparisonRow[] {
  const aegisRows = rows.filter((r) => r.system === 'aegis' && r.op === 'transmit').sort((a, b) => a.n - b.n);
  const find = (n: number, feeds: number): GasRow | undefined => aegisRows.find((a) => a.n === n && a.feeds === feeds) ?? aegisRows.find((a) => a.feeds === feeds);
  const order: Record<string, number> = { aegis: 0, 'chainlink-keystone': 1, api3: 2, redstone: 3 };
  return rows
    .filter((r) => r.op === 'update' || (r.system === 'aegis' && r.op === 'transmit'))
    .map((r) => {
      const a = find(r.n, r.feeds);
      const out: ComparisonRow = { system: r.system, n: r.n, feeds: r.feeds, gas: r.gas, gasPerFeed: Math.round(r.gas / r.feeds) };
      const prev = rows
        .filter((p) => p.system === r.system && p.op === r.op && p.n === r.n && p.feeds < r.feeds)
        .sort((x, y) => y.feeds - x.feeds)[0];
      if (prev) out.marginalPerFeed = Math.round((r.gas - prev.gas) / (r.feeds - prev.feeds));
      if (a !== undefined) {
        out.aegisGas = a.gas;
        out.aegisN = a.n;
        out.ratioToAegis = Math.round((r.gas / a.gas) * 100) / 100;
      }
      if (r.note) out.note = r.note;
      return out;
    })
    .sort((x, y) => x.feeds - y.feeds || x.n - y.n || (order[x.system] ?? 9) - (order[y.system] ?? 9));
}

/** The side-by-side gas bar: Aegis against the Keystone path at n = 31 and 10 feeds, two ways per feed. */
export interface KeystoneBar {
  n: number;
  feeds: number;
  aegis: { gas: number; gasPerFeed: number; marginalPerFeed: number };
  keystone: { gas: number; gasPerFeed: number; marginalPerFeed: number };
  /** Aegis ÷ Keystone of the average per feed (gas / feeds); the bar asks for at most 1/3. */
  averageRatio: number;
  /** Aegis ÷ Keystone of the marginal per feed (slope between 1 and 10 feeds). */
  marginalRatio: number;
}

export function keystoneBar(cmp: ComparisonRow[], n = 31, feeds = 10): KeystoneBar | undefined {
  const pick = (system: string): ComparisonRow | undefined => cmp.find((r) => r.system === system && r.n === n && r.feeds === feeds && r.marginalPerFeed !== undefined);
  const a = pick('aegis');
  const k = pick('chainlink-keystone');
  if (!a || !k) return undefined;
  const side = (r: ComparisonRow) => ({ gas: r.gas, gasPerFeed: r.gasPerFeed, marginalPerFeed: r.marginalPerFeed! });
  const ratio = (x: number, y: number): number => Math.round((x / y) * 1000) / 1000;
  return { n, feeds, aegis: side(a), keystone: side(k), averageRatio: ratio(a.gas, k.gas), marginalRatio: ratio(a.marginalPerFeed!, k.marginalPerFeed!) };
}

export function comparisonMarkdown(cmp: ComparisonRow[], meta: { date: string; anvil: string }): string {
  const fmt = (v: number): string => v.toLocaleString('en-US');
  const lines = [
    '# Gas per price update: Aegis and the incumbents, same anvil, same run',
    '',
    `Run ${meta.date} on ${meta.anvil}; \`npm run bench -- --only peers\`. Total transaction gas (receipt \`gasUsed\`) of one accepted update in steady state. "× Aegis" = peer gas ÷ Aegis \`transmit\` gas at the same n and feeds. "gas / feed" is the average (gas ÷ feeds); "marginal / feed" is the slope from the next smaller feed count of the same system and n (1→10 on 10-feed rows, 10→100 on 100-feed rows).`,
    '',
  ];
  const bar = keystoneBar(cmp);
  if (bar) {
    lines.push(
      `Bar, n = ${bar.n}, ${bar.feeds} feeds — Aegis ÷ Chainlink Keystone per feed (at most 1/3 asked):`,
      '',
      `- average per feed (gas ÷ feeds): ${fmt(bar.aegis.gasPerFeed)} ÷ ${fmt(bar.keystone.gasPerFeed)} = **${bar.averageRatio.toFixed(2)}**`,
      `- marginal per feed (slope 1→10 feeds): ${fmt(bar.aegis.marginalPerFeed)} ÷ ${fmt(bar.keystone.marginalPerFeed)} = **${bar.marginalRatio.toFixed(2)}**`,
      '',
    );
  }
  lines.push('| system | n | feeds | gas / update | gas / feed (average) | marginal / feed | × Aegis | note |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of cmp) {
    const ratio = r.system === 'aegis' ? '1' : r.ratioToAegis !== undefined ? `${r.ratioToAegis.toFixed(2)}${r.aegisN !== r.n ? ` (vs n=${r.aegisN})` : ''}` : '—';
    const marginal = r.marginalPerFeed !== undefined ? fmt(r.marginalPerFeed) : '—';
    lines.push(`| ${r.system} | ${r.n} | ${r.feeds} | ${fmt(r.gas)} | ${fmt(r.gasPerFeed)} | ${marginal} | ${ratio} | ${r.note ?? ''} |`);
  }
  lines.push('', 'Charts: `gas-vs-n.svg` (1 and 10 feeds), `gas-vs-feeds.svg` (n = 31).', '');
  return lines.join('\n');
}

// -- Charts ------------------------------------------------------------------------------------

const COLORS: Record<string, string> = { aegis: '#1b7837', 'chainlink-keystone': '#2166ac', api3: '#d6604d', redstone: '#762a83' };
const LABELS: Record<string, string> = {
  aegis: 'aegis (1 BLS group signature)',
  'chainlink-keystone': 'chainlink-keystone (f+1 ECDSA, n ≤ 31)',
  api3: 'api3 (n signed beacons per feed)',
  redstone: 'redstone (2f+1 signed packages)',
};

/** Per system, the committee-grid rows (RedStone's named 3-of-3/3-of-5 rows are left out). */
function gridSeries(rows: GasRow[], ns: number[], pick: (r: GasRow) => boolean, dash?: string, suffix = ''): Series[] {
  const out: Series[] = [];
  for (const system of ['aegis', 'chainlink-keystone', 'api3', 'redstone']) {
    const pts = rows
      .filter((r) => r.system === system && (r.op === 'update' || r.op === 'transmit') && pick(r))
      .filter((r) => system !== 'redstone' || ns.includes(r.n))
      .map((r) => ({ x: r.n, y: r.gas }));
    if (pts.length) out.push({ label: `${LABELS[system] ?? system}${suffix}`, color: COLORS[system]!, ...(dash ? { dash } : {}), points: pts });
  }
  return out;
}

export function renderCharts(rows: GasRow[], ns: number[]): { gasVsN: string; gasVsFeeds: string } {
  const W = 520;
  const H = 440;
  const panel = (x: number, k: number): string =>
    lineChart({
      x,
      y: 0,
      width: W,
      height: H,
      title: `Gas per update vs committee size n (${k} feed${k === 1 ? '' : 's'})`,
      xLabel: 'committee size n',
      yLabel: 'gas per update (log scale)',
      yLog: true,
      xTicks: ns,
      series: gridSeries(rows, ns, (r) => r.feeds === k),
    });
  const ks = [...new Set(rows.map((r) => r.feeds))].filter((k) => k === 1 || k === 10);
  const gasVsN = svgDocument(
    W * ks.length,
    H + 18,
    ks.map((k, i) => panel(i * W, k)),
    'Aegis: one BLS group signature (flat in n). Keystone: f+1 ECDSA (max n = 31). API3: n signed beacons + median per feed. RedStone: 2f+1 signed packages.',
  );
  const n31 = ns.includes(31) ? 31 : Math.max(...ns.filter((n) => n <= 31));
  const series: Series[] = [];
  for (const system of ['aegis', 'chainlink-keystone', 'api3', 'redstone']) {
    const pts = rows.filter((r) => r.system === system && r.n === n31 && (r.op === 'update' || r.op === 'transmit')).map((r) => ({ x: r.feeds, y: r.gas }));
    if (pts.length) series.push({ label: LABELS[system] ?? system, color: COLORS[system]!, points: pts });
  }
  const gasVsFeeds = svgDocument(
    W + 80,
    H + 18,
    [lineChart({ x: 0, y: 0, width: W + 80, height: H, title: `Gas per update vs feeds per update (n = ${n31})`, xLabel: 'feeds per update (log)', yLabel: 'gas per update (log)', xLog: true, yLog: true, series })],
    'Same anvil, same run; receipt gasUsed of one accepted update in steady state.',
  );
  return { gasVsN, gasVsFeeds };
}

/** Writes peers.json, peers.md and the two SVG charts; returns the paths written. */
export function writePeerOutputs(rows: GasRow[], ns: number[], out: string): string[] {
  mkdirSync(out, { recursive: true });
  const cmp = comparison(rows);
  const meta = { date: new Date().toISOString(), anvil: 'anvil 1.7 (@foundry-rs/anvil), default hardfork' };
  const files = {
    'peers.json': JSON.stringify({ ...meta, bar: keystoneBar(cmp), rows: cmp }, null, 2) + '\n',
    'peers.md': comparisonMarkdown(cmp, meta),
    ...(() => {
      const c = renderCharts(rows, ns);
      return { 'gas-vs-n.svg': c.gasVsN, 'gas-vs-feeds.svg': c.gasVsFeeds };
    })(),
  };
  const written: string[] = [];
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(out, name), content);
    written.push(join(out, name));
  }
  return written;
}

/** The bench entry (`scripts/bench.ts`). */
export async function benchSection(opts: PeersOptions): Promise<{ gas: GasRow[] }> {
  const rows = await measurePeers(opts);
  const ns = opts.committees ?? (opts.quick ? [4, 31] : [4, 7, 31, 100]);
  const written = writePeerOutputs(rows, ns, opts.out ?? join(ROOT, 'bench-out'));
  const bar = keystoneBar(comparison(rows));
  if (bar) opts.progress(`Aegis ÷ Keystone at n=${bar.n}, ${bar.feeds} feeds: average per feed ${bar.averageRatio.toFixed(2)}, marginal per feed (1→10) ${bar.marginalRatio.toFixed(2)}`);
  opts.progress(`written ${written.join(', ')}`);
  return { gas: rows };
}
