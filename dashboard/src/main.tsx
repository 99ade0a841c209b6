/**
 * The Aegis dashboard: feeds (answer, age, round, status, breaker, history chart), rounds
 * (participants, exclusions with reason codes, tx and gas, the signed report and an
 * in-browser signature check) and nodes (health, sources, participation, implied alerts).
 *
 * Two modes: served by an aggregator (`/dashboard/`: chain reads through its read-only RPC
 * pass-through, rounds and nodes from its store, live updates by server-sent events), or
 * read-only against any RPC (`?rpc=<url>&hub=<address>`: feeds and history only, refreshed on
 * every new block, polled every `&poll=` ms, default 500). Hash routes (`#/feeds`, `#/feed/BTC%2FUSD`, `#/rounds`, `#/round/<epoch>`,
 * `#/nodes`) keep one static page.
 */
import { encodeBytes32String } from 'ethers';
import { render } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { HubClient, formatAnswer, warmFormatter, type Consumer, type FeedView, type HubView } from './chain.ts';
import type { FeedChart as FeedChartType } from './chart.tsx';
import './style.css';

interface Config {
  mode: 'aggregator' | 'readonly';
  chainId: string | null;
  hub: string;
  rpcUrl: string;
  apiBase: string | null;
  aggregator?: { name: string; role: string };
  committee?: { n: number; t: number; nodes: { index: number; url: string | null }[] } | null;
  feeds: { feed: string; feedId: string; deviationPct: number; heartbeatSec: number }[];
}

interface RoundJson {
  epoch: string;
  startedAt: string;
  status: string;
  failure: { code: string; message: string } | null;
  feeds: string[];
  answers: Record<string, string>;
  participants: { observed: number[]; signed: number[] };
  excluded: { index: number; phase: string; code: string; reason: string }[];
  skipped: { feed: string; reason: string }[];
  postingReason: string | null;
  decisions: string[];
  signed: boolean;
  tx: { hash: string | null; status: string; detail: string | null; gasUsed: string | null; feeWei: string | null } | null;
  timingsMs: Record<string, number>;
}

interface RoundDetail extends RoundJson {
  report: null | {
    encoded: string;
    configDigest: string;
    epoch: string;
    observedAt: number;
    observationsRoot: string;
    observers: string;
    feeds: { feed: string; feedId: string; answer: string; spreadBps: number }[];
  };
  signature: string | null;
  signatureEvm: string | null;
  observationFeeds: string[];
  observations: { nodeIndex: number; observedAt: string; answers: (string | null)[] }[];
}

// -- Boot: which mode, which hub --

function apiBase(): string {
  const p = location.pathname;
  const dir = p.endsWith('/') ? p : p.endsWith('.html') ? p.replace(/[^/]*$/, '') : p + '/';
  return `${location.origin}${dir}api/`;
}

async function loadConfig(): Promise<Config> {
  const q = new URLSearchParams(location.search);
  const rpc = q.get('rpc');
  const hub = q.get('hub');
  if (rpc && hub) return { mode: 'readonly', chainId: null, hub, rpcUrl: rpc, apiBase: null, feeds: [] };
  const base = apiBase();
  const res = await fetch(`${base}config`).catch(() => undefined);
  if (!res?.ok) throw new Error(`no aggregator answered at ${base}config; open this page with ?rpc=<RPC URL>&hub=<hub address> to read a hub directly (read-only mode)`);
  const c = (await res.json()) as Omit<Config, 'rpcUrl' | 'apiBase'>;
  if (!c.hub) throw new Error('the aggregator gave no hub address; open this page with ?rpc=…&hub=… instead');
  return { ...c, mode: 'aggregator', rpcUrl: `${base}rpc`, apiBase: base };
}

// -- Routing --

function useRoute(): string[] {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  return parts[0] ? parts : ['feeds'];
}

// -- Live updates: a counter that moves on each new round or block --

function useLive(cfg: Config, client: HubClient): { tick: number; lastEvent: string } {
  const [state, setState] = useState({ tick: 0, lastEvent: 'waiting for the first update' });
  useEffect(() => {
    const bump = (what: string) => setState((s) => ({ tick: s.tick + 1, lastEvent: `${what} at ${new Date().toLocaleTimeString()}` }));
    if (cfg.apiBase) {
      const es = new EventSource(`${cfg.apiBase}events`);
      es.addEventListener('block', (e) => bump(`block ${(JSON.parse((e as MessageEvent).data) as { block: number }).block} with hub events`));
      es.addEventListener('round', (e) => bump(`round ${(JSON.parse((e as MessageEvent).data) as { epoch: string }).epoch}`));
      return () => es.close();
    }
    // Read-only mode: poll the RPC for new blocks (every ?poll= ms, default 500: a round is on the page within a second).
    const pollMs = Math.max(100, Number(new URLSearchParams(location.search).get('poll')) || 500);
    let last = -1;
    let stop = false;
    const poll = async () => {
      if (stop) return;
      try {
        const n = await client.blockNumber();
        if (last >= 0 && n !== last) bump(`block ${n}`);
        last = n;
      } catch {
        // The RPC hiccuped; the next poll tries again.
      }
      setTimeout(poll, pollMs);
    };
    void poll();
    return () => {
      stop = true;
    };
  }, [cfg, client]);
  return state;
}

// -- Small pieces --

const STATUS_LABEL: Record<string, string> = { active: '● active', stale: '◌ stale', tripped: '▲ tripped', paused: '‖ paused', suspended: '■ suspended', unknown: '? unknown' };

function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status-${status}`}>{STATUS_LABEL[status] ?? status}</span>;
}

function age(seconds: number): string {
  if (seconds < 0) return '0 s';
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function shortHex(h: string | null | undefined, n = 10): string {
  if (!h) return '—';
  return h.length > n + 4 ? `${h.slice(0, n)}…` : h;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new Error(body?.error?.message ?? `${url}: HTTP ${res.status}`);
  }
  return (await res.json()) as T;
}

function ErrorLine({ error }: { error: string | null }) {
  return error ? (
    <p class="error" role="alert">
      ⚠ {error}
    </p>
  ) : null;
}

// -- Feeds --

/**
 * The hub's feeds, read again on every live tick. The first read is the one started at boot
 * (`first`), before the page's first render: an effect would start it only after that render is
 * painted, a frame or more later on a busy machine.
 */
function useHub(client: HubClient, tick: number, first: Promise<HubView>): { view: HubView | null; error: string | null } {
  const [state, setState] = useState<{ view: HubView | null; error: string | null }>({ view: null, error: null });
  const firstUsed = useRef(false);
  useEffect(() => {
    let live = true;
    const read = firstUsed.current ? client.hubView() : first;
    firstUsed.current = true;
    read
      .then((view) => live && setState({ view, error: null }))
      .catch((err: Error) => live && setState((s) => ({ view: s.view, error: err.message })));
    return () => {
      live = false;
    };
  }, [client, tick]);
  return state;
}

function FeedsPage({ cfg, hub }: { cfg: Config; hub: { view: HubView | null; error: string | null } }) {
  const { view, error } = hub;
  useEffect(() => {
    // For the load benchmark and tests: the table is on screen once the next frame is painted.
    if (view && !performance.getEntriesByName('feeds-rendered').length) requestAnimationFrame(() => performance.mark('feeds-rendered', { detail: { feeds: view.feeds.length } }));
  }, [view]);
  const policy = new Map(cfg.feeds.map((f) => [f.feedId.toLowerCase(), f]));
  return (
    <section aria-labelledby="feeds-h">
      <h1 id="feeds-h">Feeds</h1>
      <ErrorLine error={error} />
      {!view ? (
        <p aria-busy="true">reading the hub…</p>
      ) : (
        <>
          <p class="muted">
            {view.feeds.length} feeds on hub <code>{shortHex(cfg.hub, 12)}</code>, block {view.blockNumber}
            {view.paused ? (
              <strong class="badge status-paused"> ‖ hub paused by the guardian</strong>
            ) : null}
          </p>
          <div class="scroll">
            <table class="feeds">
              <thead>
                <tr>
                  <th scope="col">feed</th>
                  <th scope="col">answer</th>
                  <th scope="col">age</th>
                  <th scope="col">round</th>
                  <th scope="col">status</th>
                  <th scope="col">spread</th>
                  <th scope="col">breaker limit</th>
                  <th scope="col">next post</th>
                </tr>
              </thead>
              <tbody>
                {view.feeds.map((f) => {
                  const p = policy.get(f.id.toLowerCase());
                  return (
                    <tr key={f.id} data-feed={f.name} data-status={f.status}>
                      <th scope="row">
                        <a href={`#/feed/${encodeURIComponent(f.name)}`}>{f.name}</a>
                      </th>
                      <td class="num" data-answer={f.answer.toString()}>
                        {f.roundId > 0n ? formatAnswer(f.answer, f.decimals) : '—'}
                      </td>
                      <td class="num">{f.roundId > 0n ? age(view.blockTime - f.observedAt) : '—'}</td>
                      <td class="num" data-round={f.roundId.toString()}>
                        {f.roundId.toString()}
                      </td>
                      <td>
                        <StatusBadge status={f.status} />
                        {f.breaker.tripped ? <div class="small">pending {formatAnswer(f.breaker.candidate, f.decimals)}</div> : null}
                      </td>
                      <td class="num">{f.spreadBps} bps</td>
                      <td class="num">±{(f.deviationBps / 100).toFixed(2)} %</td>
                      <td class="small">{p ? `±${p.deviationPct} % or ${age(p.heartbeatSec)}` : `heartbeat ${age(f.heartbeat)}`}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

/** Settlement contracts to look for, from `?consumers=0x…,0x…` (no index of consumers exists on-chain). */
function consumerParam(): string[] {
  return (new URLSearchParams(location.search).get('consumers') ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => /^0x[0-9a-fA-F]{40}$/.test(x));
}

function Consumers({ client, feed, tick }: { client: HubClient; feed: FeedView; tick: number }) {
  const addresses = useMemo(consumerParam, []);
  const [list, setList] = useState<Consumer[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!addresses.length) return;
    client
      .consumers(addresses)
      .then((l) => (setList(l.filter((c) => c.feedId.toLowerCase() === feed.id.toLowerCase())), setError(null)))
      .catch((err: Error) => setError(err.message));
  }, [client, feed.id, addresses, tick]);
  return (
    <>
      <h2>Settlement contracts reading this feed</h2>
      <ErrorLine error={error} />
      {!addresses.length ? (
        <p class="muted small">
          None given: the chain keeps no index of who reads a feed. Add <code>&amp;consumers=0x…,0x…</code> to the URL to check contracts that answer <code>hub()</code> and{' '}
          <code>feedId()</code> (the settlement contracts do).
        </p>
      ) : !list ? (
        <p aria-busy="true">asking the contracts…</p>
      ) : list.length === 0 ? (
        <p class="muted small">None of the {addresses.length} given contracts reads this feed of this hub.</p>
      ) : (
        <ul class="consumers">
          {list.map((c) => (
            <li key={c.address} data-consumer={c.address}>
              {c.kind} <code>{c.address}</code>
              {c.mark ? ('error' in c.mark ? ` — no mark price: ${c.mark.error}` : ` — mark price ${formatAnswer(c.mark.price, feed.decimals)} (round ${c.mark.roundId})`) : ''}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

type ChartProps = Parameters<typeof FeedChartType>[0];
let chartModule: Promise<typeof import('./chart.tsx')> | undefined;
/** The chart module once loaded: a chart drawn after it renders at once, without waiting a frame for an effect. */
let chartLoaded: typeof import('./chart.tsx') | undefined;

/**
 * The chart module (lightweight-charts is most of the page's code) is fetched on first use, so
 * the feeds table paints without downloading or parsing it; a feed's page starts the fetch
 * beside its history query (docs/dashboard.md §Tests and numbers).
 */
function loadChart(): Promise<typeof import('./chart.tsx')> {
  chartModule ??= import('./chart.tsx').then(
    (m) => (chartLoaded = m),
    (err: Error) => {
      chartModule = undefined;
      throw new Error(`the chart's code did not load (${err.message}); reload the page`);
    },
  );
  return chartModule;
}

function LazyFeedChart(props: ChartProps) {
  const [chart, setChart] = useState<{ FeedChart: typeof FeedChartType } | null>(chartLoaded ? { FeedChart: chartLoaded.FeedChart } : null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (chart) return;
    let live = true;
    loadChart()
      .then((m) => live && setChart({ FeedChart: m.FeedChart }))
      .catch((err: Error) => live && setError(err.message));
    return () => {
      live = false;
    };
  }, []);
  if (error) return <ErrorLine error={error} />;
  return chart ? <chart.FeedChart {...props} /> : <p aria-busy="true">loading the chart…</p>;
}

function FeedPage({ cfg, client, name, hub, tick }: { cfg: Config; client: HubClient; name: string; hub: { view: HubView | null; error: string | null }; tick: number }) {
  const feed = hub.view?.feeds.find((f) => f.name === name);
  const [hist, setHist] = useState<Awaited<ReturnType<HubClient['history']>> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [venues, setVenues] = useState<{ node: number; sources: { source: string; price?: number; status: string; ageMs?: number }[] } | null>(null);
  // The history query needs only the feed id, so it runs beside the hub read, not after it.
  const id = useMemo(() => {
    try {
      return encodeBytes32String(name);
    } catch {
      return null;
    }
  }, [name]);
  // The chart's code downloads while the history is read. Both start in layout effects, as the
  // page is committed, not after its first paint.
  useLayoutEffect(() => void loadChart().catch(() => undefined), []);
  const fetchedFor = useRef<{ seq: number; rounds: bigint | null; status: string | undefined }>({ seq: 0, rounds: null, status: undefined });
  useLayoutEffect(() => {
    if (!id) return;
    const f = fetchedFor.current;
    // Skip when a fetch is in flight (rounds null after start) or the history already has every round.
    if (f.seq > 0 && (f.rounds === null || (feed && f.rounds === feed.roundId && (f.status === undefined || f.status === feed.status)))) return;
    const seq = f.seq + 1;
    fetchedFor.current = { seq, rounds: null, status: feed?.status };
    client
      .history({ id })
      .then((h) => {
        if (fetchedFor.current.seq !== seq) return;
        fetchedFor.current.rounds = BigInt(h.points.length);
        setHist(h);
        setError(null);
      })
      .catch((err: Error) => {
        if (fetchedFor.current.seq !== seq) return;
        fetchedFor.current.rounds = -1n;
        setError(err.message);
      });
  }, [client, id, feed?.roundId.toString(), feed?.status, hist === null]);
  useEffect(() => {
    if (!cfg.apiBase) return;
    getJson<{ nodes: { index: number; status: { feeds?: { feed: string; sources: { source: string; price?: number; status: string; ageMs?: number }[] }[] } | null }[] }>(`${cfg.apiBase}nodes`)
      .then((r) => {
        const n = r.nodes.find((x) => x.status?.feeds?.some((f) => f.feed === name));
        const f = n?.status?.feeds?.find((x) => x.feed === name);
        setVenues(n && f ? { node: n.index, sources: f.sources } : null);
      })
      .catch(() => setVenues(null));
  }, [cfg, name, tick]);
  const chart = (
    <>
      <h2>History (hub events)</h2>
      {hist ? <LazyFeedChart name={name} decimals={hist.decimals} points={hist.points} marks={hist.marks} /> : <p aria-busy="true">reading events…</p>}
      {hist ? (
        <p class="muted small">
          {hist.points.length} rounds from FeedUpdated events; breaker events: {hist.marks.length ? hist.marks.map((m) => `${m.kind} (block ${m.block})`).join(', ') : 'none'}
        </p>
      ) : null}
    </>
  );
  // The history needs no hub read: it is drawn as soon as its events arrive.
  if (!hub.view)
    return (
      <section aria-labelledby="feed-h">
        <h1 id="feed-h">{name}</h1>
        <p aria-busy="true">reading the hub…</p>
        <ErrorLine error={error} />
        {chart}
      </section>
    );
  if (!feed) return <p class="error">feed {name}: not on this hub</p>;
  const b = feed.breaker;
  return (
    <section aria-labelledby="feed-h">
      <p>
        <a href="#/feeds">← all feeds</a>
      </p>
      <h1 id="feed-h">
        {feed.name} <StatusBadge status={feed.status} />
      </h1>
      <p class="muted">{feed.description}</p>
      <dl class="facts">
        <div>
          <dt>answer</dt>
          <dd data-answer={feed.answer.toString()}>{feed.roundId > 0n ? formatAnswer(feed.answer, feed.decimals) : '—'}</dd>
        </div>
        <div>
          <dt>round</dt>
          <dd data-round={feed.roundId.toString()}>{feed.roundId.toString()}</dd>
        </div>
        <div>
          <dt>age</dt>
          <dd>{feed.roundId > 0n ? age(hub.view.blockTime - feed.observedAt) : '—'} (stale after {age(feed.maxStaleness)})</dd>
        </div>
        <div>
          <dt>spread</dt>
          <dd>{feed.spreadBps} bps</dd>
        </div>
        <div>
          <dt>breaker</dt>
          <dd>
            trips beyond ±{(feed.deviationBps / 100).toFixed(2)} %; recovers after {feed.confirmations} reports over {age(feed.confirmationTime)}
          </dd>
        </div>
        <div>
          <dt>heartbeat</dt>
          <dd>{age(feed.heartbeat)}</dd>
        </div>
        {b.tripped ? (
          <div class="tripped">
            <dt>▲ tripped</dt>
            <dd>
              serving {formatAnswer(feed.answer, feed.decimals)}; pending candidate {formatAnswer(b.candidate, feed.decimals)} since {new Date(b.since * 1000).toLocaleTimeString()} ({b.seen} of {feed.confirmations} confirmations)
            </dd>
          </div>
        ) : null}
      </dl>
      <ErrorLine error={error} />
      {chart}
      <Consumers client={client} feed={feed} tick={tick} />
      {venues ? (
        <>
          <h2>Venues now (node {venues.node})</h2>
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">venue</th>
                  <th scope="col">price</th>
                  <th scope="col">age</th>
                  <th scope="col">verdict</th>
                </tr>
              </thead>
              <tbody>
                {venues.sources.map((s) => (
                  <tr key={s.source}>
                    <th scope="row">{s.source}</th>
                    <td class="num">{s.price?.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: s.price >= 100 ? 2 : 6 }) ?? '—'}</td>
                    <td class="num">{s.ageMs !== undefined ? `${(s.ageMs / 1000).toFixed(1)} s` : '—'}</td>
                    <td>
                      <span class={`badge src-${s.status === 'used' ? 'ok' : 'bad'}`}>{s.status === 'used' ? '✓ used' : `✗ ${s.status}`}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </section>
  );
}

// -- Rounds --

function ParticipantGrid({ r, n }: { r: RoundJson; n: number }) {
  const cells = [];
  for (let i = 1; i <= n; i++) {
    const x = r.excluded.find((e) => e.index === i);
    const signed = r.participants.signed.includes(i);
    const observed = r.participants.observed.includes(i);
    const [cls, sym, what] = x ? ['x', '✗', `excluded (${x.phase}): ${x.code}`] : signed ? ['s', 'S', 'observed and signed'] : observed ? ['o', 'O', 'observed, did not sign'] : ['a', '·', 'no answer'];
    cells.push(
      <span class={`cell cell-${cls}`} title={`node ${i}: ${what}${x ? ` — ${x.reason}` : ''}`} role="img" aria-label={`node ${i}: ${what}`}>
        {sym}
      </span>,
    );
  }
  return <span class="grid">{cells}</span>;
}

function useRounds(cfg: Config, tick: number): { rounds: RoundJson[] | null; error: string | null } {
  const [s, set] = useState<{ rounds: RoundJson[] | null; error: string | null }>({ rounds: null, error: null });
  useEffect(() => {
    if (!cfg.apiBase) return;
    getJson<{ rounds: RoundJson[] }>(`${cfg.apiBase}rounds?limit=50`)
      .then((r) => set({ rounds: r.rounds, error: null }))
      .catch((err: Error) => set((p) => ({ rounds: p.rounds, error: err.message })));
  }, [cfg, tick]);
  return s;
}

function ReadOnlyNote({ what }: { what: string }) {
  return (
    <p class="muted" role="note">
      {what} come from an aggregator's round store; this page reads a hub directly (read-only mode: feeds and history only).
    </p>
  );
}

function RoundsPage({ cfg, tick }: { cfg: Config; tick: number }) {
  const { rounds, error } = useRounds(cfg, tick);
  if (!cfg.apiBase) return <ReadOnlyNote what="Rounds" />;
  const n = cfg.committee?.n ?? 0;
  return (
    <section aria-labelledby="rounds-h">
      <h1 id="rounds-h">Rounds</h1>
      <p class="muted small legend">
        Participants: <span class="cell cell-s">S</span> observed and signed, <span class="cell cell-o">O</span> observed only, <span class="cell cell-x">✗</span> excluded (code in the
        tooltip and the round page), <span class="cell cell-a">·</span> no answer. Committee n = {n}, t = {cfg.committee?.t}.
      </p>
      <ErrorLine error={error} />
      {!rounds ? (
        <p aria-busy="true">loading rounds…</p>
      ) : (
        <div class="scroll">
          <table class="rounds">
            <thead>
              <tr>
                <th scope="col">epoch</th>
                <th scope="col">time</th>
                <th scope="col">status</th>
                <th scope="col">latency</th>
                <th scope="col">participants</th>
                <th scope="col">excluded</th>
                <th scope="col">posting</th>
                <th scope="col">tx</th>
                <th scope="col">gas</th>
              </tr>
            </thead>
            <tbody>
              {rounds.map((r) => {
                const latency = Object.values(r.timingsMs).reduce((a, b) => a + b, 0);
                return (
                  <tr key={r.epoch} data-epoch={r.epoch}>
                    <th scope="row">
                      <a href={`#/round/${r.epoch}`}>{r.epoch}</a>
                    </th>
                    <td>{new Date(r.startedAt).toLocaleTimeString()}</td>
                    <td>
                      <span class={`badge round-${r.failure ? 'failed' : 'ok'}`}>{r.failure ? `✗ ${r.failure.code}` : `✓ ${r.status}`}</span>
                    </td>
                    <td class="num">{latency.toFixed(0)} ms</td>
                    <td>
                      <ParticipantGrid r={r} n={n} />
                    </td>
                    <td class="small">{r.excluded.map((x) => `${x.index}: ${x.code}`).join(', ') || '—'}</td>
                    <td>{r.postingReason ?? 'no post'}</td>
                    <td>{r.tx ? `${r.tx.status} ${shortHex(r.tx.hash)}` : '—'}</td>
                    <td class="num">{r.tx?.gasUsed ? Number(r.tx.gasUsed).toLocaleString('en-US') : '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function RoundPage({ cfg, client, epoch }: { cfg: Config; client: HubClient; epoch: string }) {
  const [r, setR] = useState<RoundDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [verdict, setVerdict] = useState<{ ok: boolean; message: string; ms: number } | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!cfg.apiBase) return;
    getJson<RoundDetail>(`${cfg.apiBase}rounds/${encodeURIComponent(epoch)}`)
      .then((x) => (setR(x), setError(null)))
      .catch((err: Error) => setError(err.message));
  }, [cfg, epoch]);
  if (!cfg.apiBase) return <ReadOnlyNote what="Rounds" />;
  const verify = async () => {
    if (!r?.report || !r.signature) return;
    setBusy(true);
    try {
      const { verifyRoundSignature } = await import('./verify.ts');
      const hub = await client.committee();
      setVerdict(await verifyRoundSignature(r.report.encoded, r.signature, hub));
    } catch (err) {
      setVerdict({ ok: false, message: `could not check: ${(err as Error).message}`, ms: 0 });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="round-h">
      <p>
        <a href="#/rounds">← all rounds</a>
      </p>
      <h1 id="round-h">Round {epoch}</h1>
      <ErrorLine error={error} />
      {!r ? null : (
        <>
          <dl class="facts">
            <div>
              <dt>status</dt>
              <dd>{r.failure ? `✗ ${r.failure.code}: ${r.failure.message}` : `✓ ${r.status}`}</dd>
            </div>
            <div>
              <dt>posting</dt>
              <dd>{r.postingReason ?? 'no post'}</dd>
            </div>
            <div>
              <dt>tx</dt>
              <dd>{r.tx ? `${r.tx.status} ${r.tx.hash ?? ''} (gas ${r.tx.gasUsed ?? '—'})` : '—'}</dd>
            </div>
            <div>
              <dt>participants</dt>
              <dd>
                <ParticipantGrid r={r} n={cfg.committee?.n ?? 0} />
              </dd>
            </div>
          </dl>
          {r.excluded.length ? (
            <ul>
              {r.excluded.map((x) => (
                <li key={x.index}>
                  node {x.index} excluded in {x.phase}: <code>{x.code}</code> — {x.reason}
                </li>
              ))}
            </ul>
          ) : null}
          {r.decisions.length ? (
            <details>
              <summary>posting decisions</summary>
              <ul>
                {r.decisions.map((d) => (
                  <li key={d}>{d}</li>
                ))}
              </ul>
            </details>
          ) : null}
          {r.report ? (
            <>
              <h2>Signed report</h2>
              <dl class="facts">
                <div>
                  <dt>config digest</dt>
                  <dd>
                    <code>{r.report.configDigest}</code>
                  </dd>
                </div>
                <div>
                  <dt>observed at</dt>
                  <dd>{new Date(r.report.observedAt * 1000).toISOString()}</dd>
                </div>
                <div>
                  <dt>observers</dt>
                  <dd>
                    <code>{r.report.observers}</code>
                  </dd>
                </div>
                <div>
                  <dt>observations root</dt>
                  <dd>
                    <code>{shortHex(r.report.observationsRoot, 18)}</code>
                  </dd>
                </div>
              </dl>
              <div class="scroll">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">feed</th>
                      <th scope="col">answer (fixed point)</th>
                      <th scope="col">spread</th>
                    </tr>
                  </thead>
                  <tbody>
                    {r.report.feeds.map((f) => (
                      <tr key={f.feedId}>
                        <th scope="row">{f.feed}</th>
                        <td class="num">{f.answer}</td>
                        <td class="num">{f.spreadBps} bps</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <p>
                <button type="button" id="verify" onClick={verify} disabled={busy}>
                  {busy ? 'verifying…' : 'Verify the signature in this browser'}
                </button>
              </p>
              {verdict ? (
                <p id="verdict" class={verdict.ok ? 'verdict ok' : 'verdict bad'} role="status" data-ok={String(verdict.ok)}>
                  {verdict.ok ? '✓ ' : '✗ '}
                  {verdict.message} {verdict.ms ? `(${verdict.ms.toFixed(0)} ms)` : ''}
                </p>
              ) : null}
              <h2>Observations</h2>
              <div class="scroll">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">node</th>
                      <th scope="col">observed at</th>
                      {r.observationFeeds.map((f) => (
                        <th scope="col" key={f}>
                          {f}
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {r.observations.map((o) => (
                      <tr key={o.nodeIndex}>
                        <th scope="row">{o.nodeIndex}</th>
                        <td>{new Date(Number(o.observedAt) * 1000).toLocaleTimeString()}</td>
                        {o.answers.map((a, k) => (
                          <td class="num" key={k}>
                            {a ?? 'no observation'}
                          </td>
                        ))}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          ) : (
            <p class="muted">No signed report in this round.</p>
          )}
        </>
      )}
    </section>
  );
}

// -- Nodes --

interface NodeJson {
  index: number;
  url: string | null;
  health: { ok: boolean; httpStatus?: number; message: string };
  status: null | {
    version?: string;
    uptimeS?: number;
    lastSigned?: { epoch: string; at: string } | null;
    snapshot?: { ageMs: number } | null;
    sources?: { source: string; state: string; consecutiveFailures: number }[];
    feeds?: { feed: string; ok: boolean; reason?: string; sources: { source: string; status: string; price?: number }[] }[];
    byzantine?: string;
  };
  metrics: Record<string, number>;
  participation: { hours: number; rounds: number; since: string | null; observed: number; signed: number; excludedCount: number; excluded: { epoch: string; code: string; reason: string }[]; recent: string };
}

/** The alerts a node's own status and metrics imply, worded as the Prometheus rules in monitoring/ name them. */
export function nodeAlerts(n: NodeJson): string[] {
  const out: string[] = [];
  if (!n.health.ok) out.push(`AegisNodeDown: ${n.health.message || 'health check failed'}`);
  const snap = n.metrics['aegis_node_snapshot_age_seconds'];
  if (snap !== undefined && snap > 30) out.push(`AegisNodeSnapshotStale: last price snapshot ${snap.toFixed(0)} s old`);
  for (const s of n.status?.sources ?? []) if (s.state === 'open') out.push(`AegisSourceCircuitOpen: ${s.source} after ${s.consecutiveFailures} failures`);
  for (const f of n.status?.feeds ?? []) if (!f.ok) out.push(`AegisNodeNoObservation: ${f.feed}: ${f.reason ?? 'no observation'}`);
  if (n.participation.rounds >= 5 && n.participation.signed / n.participation.rounds < 0.5) out.push(`AegisNodeLowParticipation: signed ${n.participation.signed} of ${n.participation.rounds} rounds`);
  if ((n.metrics['aegis_node_signatures_refused_total'] ?? 0) > 0) out.push(`AegisNodeRefusedSigning: ${n.metrics['aegis_node_signatures_refused_total']} refusals`);
  return out;
}

function NodesPage({ cfg, tick }: { cfg: Config; tick: number }) {
  const [s, set] = useState<{ nodes: NodeJson[] | null; error: string | null }>({ nodes: null, error: null });
  useEffect(() => {
    if (!cfg.apiBase) return;
    getJson<{ nodes: NodeJson[] }>(`${cfg.apiBase}nodes`)
      .then((r) => set({ nodes: r.nodes, error: null }))
      .catch((err: Error) => set((p) => ({ nodes: p.nodes, error: err.message })));
  }, [cfg, Math.floor(tick / 3)]);
  if (!cfg.apiBase) return <ReadOnlyNote what="Node states" />;
  return (
    <section aria-labelledby="nodes-h">
      <h1 id="nodes-h">Nodes</h1>
      <ErrorLine error={s.error} />
      {!s.nodes ? (
        <p aria-busy="true">asking the nodes…</p>
      ) : (
        <div class="cards">
          {s.nodes.map((n) => {
            const alerts = nodeAlerts(n);
            return (
              <article class="card" key={n.index} data-node={n.index} aria-labelledby={`node-${n.index}`}>
                <h2 id={`node-${n.index}`}>
                  node {n.index} <span class={`badge ${n.health.ok ? 'src-ok' : 'src-bad'}`}>{n.health.ok ? '✓ healthy' : '✗ down'}</span>
                </h2>
                <p class="small muted">
                  {n.url ?? 'no url'} · {n.status?.version ? `v${n.status.version}` : 'version unknown'} · up {n.status?.uptimeS !== undefined ? age(n.status.uptimeS) : '—'} · last signed epoch {n.status?.lastSigned?.epoch ?? '—'}
                  {n.status?.byzantine ? ` · ${n.status.byzantine}` : ''}
                </p>
                <p class="small">
                  participation over the last {n.participation.hours} h: signed {n.participation.signed} / observed {n.participation.observed} of {n.participation.rounds} rounds, excluded from {n.participation.excludedCount}
                </p>
                <p class="strip" aria-label={`last ${n.participation.recent.length} rounds, oldest first: s signed, o observed only, x excluded, - absent`}>
                  {[...n.participation.recent].map((c, k) => (
                    <span key={k} class={`pip pip-${c === '-' ? 'a' : c}`}>
                      {c}
                    </span>
                  ))}
                </p>
                <ul class="sources">
                  {(n.status?.sources ?? []).map((src) => (
                    <li key={src.source}>
                      <span class={`badge ${src.state === 'closed' ? 'src-ok' : 'src-bad'}`}>{src.state === 'closed' ? '✓' : '✗'} {src.source}</span> circuit {src.state}
                    </li>
                  ))}
                </ul>
                {(n.status?.feeds ?? []).map((f) => (
                  <p class="small" key={f.feed}>
                    {f.feed}: {f.sources.map((x) => `${x.source} ${x.status}`).join(', ')}
                  </p>
                ))}
                <h3>alerts</h3>
                {alerts.length ? (
                  <ul class="alerts">
                    {alerts.map((a) => (
                      <li key={a}>⚠ {a}</li>
                    ))}
                  </ul>
                ) : (
                  <p class="small">none</p>
                )}
              </article>
            );
          })}
        </div>
      )}
    </section>
  );
}

// -- Shell --

function App({ cfg, client, firstView }: { cfg: Config; client: HubClient; firstView: Promise<HubView> }) {
  const route = useRoute();
  const live = useLive(cfg, client);
  const hub = useHub(client, live.tick, firstView);
  const main = useRef<HTMLElement>(null);
  useEffect(() => main.current?.focus(), [route[0]]);
  const links: [string, string][] = [
    ['feeds', 'Feeds'],
    ['rounds', 'Rounds'],
    ['nodes', 'Nodes'],
  ];
  const page = route[0];
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), main.current?.focus())}>
        Skip to content
      </a>
      <header>
        <span class="brand">Aegis</span>
        <nav aria-label="pages">
          {links.map(([k, label]) => (
            <a key={k} href={`#/${k}`} aria-current={page === k || (k === 'feeds' && page === 'feed') || (k === 'rounds' && page === 'round') ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class="mode small">
          {cfg.mode === 'aggregator' ? `aggregator ${cfg.aggregator?.name ?? ''} (${cfg.aggregator?.role ?? ''})` : 'read-only: hub over RPC'}
        </span>
      </header>
      <p class="live small" aria-live="polite" id="live">
        live: {live.lastEvent}
      </p>
      <main id="main" ref={main} tabIndex={-1}>
        {page === 'feed' ? (
          <FeedPage key={route[1] ?? ''} cfg={cfg} client={client} name={route[1] ?? ''} hub={hub} tick={live.tick} />
        ) : page === 'rounds' ? (
          <RoundsPage cfg={cfg} tick={live.tick} />
        ) : page === 'round' ? (
          <RoundPage cfg={cfg} client={client} epoch={route[1] ?? ''} />
        ) : page === 'nodes' ? (
          <NodesPage cfg={cfg} tick={live.tick} />
        ) : (
          <FeedsPage cfg={cfg} hub={hub} />
        )}
      </main>
    </>
  );
}

function Connect({ error }: { error: string }) {
  return (
    <main id="main">
      <h1>Aegis dashboard</h1>
      <p class="error" role="alert">
        ⚠ {error}
      </p>
      <form method="get">
        <label>
          RPC URL <input name="rpc" type="url" required placeholder="http://127.0.0.1:8545" />
        </label>
        <label>
          hub address <input name="hub" required pattern="0x[0-9a-fA-F]{40}" placeholder="0x…" />
        </label>
        <button type="submit">Read the hub</button>
      </form>
    </main>
  );
}

const root = document.getElementById('app')!;
loadConfig()
  .then((cfg) => {
    const client = new HubClient(cfg.rpcUrl, cfg.hub);
    // Every page shows the hub's feeds: the read starts now, beside the first render.
    const firstView = client.hubView();
    firstView.catch(() => undefined); // reported by useHub; this only keeps it from counting as unhandled
    render(<App cfg={cfg} client={client} firstView={firstView} />, root);
    // While the read is in flight: the number formatter's one-time set-up (chain.ts).
    setTimeout(warmFormatter, 0);
  })
  .catch((err: Error) => render(<Connect error={err.message} />, root));
