/**
 * The simulated market: one true price path, several venues quoting it through their own
 * order book, with noise, latency, outages and scripted faults, and the displacements and wash
 * volume attackers leave behind.
 *
 * State moves only when the runner calls `advance(t)` on its fixed time grid; reading a price
 * never draws a random number. So the HTTP server and the in-process transport, which read
 * at different wall-clock instants, see the same state, and a seed fixes the whole run.
 *
 *   venue mid = truth(t − latency) · e^(noise bps) · (1 + displacement/1e4)
 */
import type { SimTick, VenueBehaviour } from '../venues/index.ts';
import type { VenueId } from '../../node/sources/index.ts';
import { decay, moveCost, type BookSpec, type TradeCost } from './book.ts';
import type { Rng } from './rng.ts';
import type { TruePath } from './path.ts';

export interface VenueSpec {
  id: VenueId;
  book: BookSpec;
  /** Standard deviation of the venue's own noise, bps; mean-reverting over `noiseTauSec`. */
  noiseBps: number;
  noiseTauSec: number;
  /** The venue's quote lags the true price by this much. */
  latencyMs: number;
  /** 24 h volume in USD before any wash trading. */
  volume24hUsd: number;
  /** Random outages per day and their mean length. */
  outagesPerDay: number;
  outageMeanSec: number;
}

/** A venue failing in a scripted window (an outage, a DoS, a frozen or mispriced feed). */
export interface VenueFault {
  venue: VenueId;
  fromSec: number;
  toSec: number;
  behaviour: VenueBehaviour | { kind: 'misprice'; factor: number };
  /** Who caused it, for the report (`market`, `attacker`). */
  cause: string;
}

export interface VenueState {
  id: VenueId;
  noiseBps: number;
  displacementBps: number;
  washUsd24h: number;
  behaviour: VenueBehaviour;
  mispriceFactor: number;
  mid: number;
}

export class SimMarket {
  readonly venues: ReadonlyMap<VenueId, VenueSpec>;
  readonly #state = new Map<VenueId, VenueState>();
  readonly #rng = new Map<VenueId, Rng>();
  readonly #faults: VenueFault[];
  #tSec = 0;
  /** Random outages drawn so far, by venue: [from, to). */
  readonly #randomOutages = new Map<VenueId, [number, number][]>();

  constructor(
    readonly path: TruePath,
    venues: readonly VenueSpec[],
    rng: Rng,
    faults: readonly VenueFault[] = [],
  ) {
    this.venues = new Map(venues.map((v) => [v.id, v]));
    this.#faults = [...faults];
    for (const v of venues) {
      const r = rng.fork(`venue:${v.id}`);
      this.#rng.set(v.id, r);
      this.#state.set(v.id, { id: v.id, noiseBps: v.noiseBps * r.normal(), displacementBps: 0, washUsd24h: 0, behaviour: { kind: 'normal' }, mispriceFactor: 1, mid: 0 });
      this.#randomOutages.set(v.id, []);
    }
    this.#refresh();
  }

  get tSec(): number {
    return this.#tSec;
  }

  truth(tSec = this.#tSec): number {
    return this.path.at(tSec);
  }

  /** Add a scripted fault (attackers add DoS windows while running). */
  addFault(f: VenueFault): void {
    if (!this.venues.has(f.venue)) throw new TypeError(`fault on ${f.venue}: not a venue of this market (${[...this.venues.keys()].join(', ')})`);
    this.#faults.push(f);
  }

  /** Move time forward to `tSec`: noise steps, displacements decay, random outages are drawn. */
  advance(tSec: number): void {
    const dt = tSec - this.#tSec;
    if (dt < 0) throw new RangeError(`market: time goes forward only (${this.#tSec} → ${tSec})`);
    if (dt > 0) {
      for (const [id, spec] of this.venues) {
        const s = this.#state.get(id)!;
        const r = this.#rng.get(id)!;
        const phi = Math.exp(-dt / Math.max(1, spec.noiseTauSec));
        s.noiseBps = phi * s.noiseBps + spec.noiseBps * Math.sqrt(1 - phi * phi) * r.normal();
        s.displacementBps = decay(spec.book, s.displacementBps, dt);
        s.washUsd24h *= Math.exp(-dt / 86_400);
        const pOutage = (spec.outagesPerDay * dt) / 86_400;
        if (pOutage > 0 && r.next() < pOutage) {
          const len = -Math.log(1 - r.next()) * spec.outageMeanSec;
          this.#randomOutages.get(id)!.push([tSec, tSec + len]);
        }
      }
    }
    this.#tSec = tSec;
    this.#refresh();
  }

  #refresh(): void {
    const t = this.#tSec;
    for (const [id, spec] of this.venues) {
      const s = this.#state.get(id)!;
      s.behaviour = { kind: 'normal' };
      s.mispriceFactor = 1;
      if (this.#randomOutages.get(id)!.some(([a, b]) => t >= a && t < b)) s.behaviour = { kind: 'outage' };
      for (const f of this.#faults) {
        if (f.venue !== id || t < f.fromSec || t >= f.toSec) continue;
        if (f.behaviour.kind === 'misprice') s.mispriceFactor = f.behaviour.factor;
        else s.behaviour = f.behaviour;
      }
      const seen = this.path.at(Math.max(0, t - spec.latencyMs / 1000));
      s.mid = seen * Math.exp(s.noiseBps / 1e4) * (1 + s.displacementBps / 1e4);
    }
  }

  state(venue: VenueId): Readonly<VenueState> {
    const s = this.#state.get(venue);
    if (!s) throw new TypeError(`market: no venue ${venue}`);
    return s;
  }

  /** Where the venue's mid would be without any attacker displacement. */
  fairMid(venue: VenueId): number {
    const s = this.state(venue);
    return s.mid / (1 + s.displacementBps / 1e4);
  }

  /** The quote a venue serves now, or undefined while it does not answer with a price. */
  tick(venue: VenueId): SimTick | undefined {
    const s = this.#state.get(venue);
    const spec = this.venues.get(venue);
    if (!s || !spec) return undefined;
    const price = s.mid * s.mispriceFactor;
    return { price, volume: (spec.volume24hUsd + s.washUsd24h) / Math.max(s.mid, 1e-12) };
  }

  behaviour(venue: VenueId): VenueBehaviour {
    return this.state(venue).behaviour;
  }

  /**
   * Trade the venue's mid to `targetBps` from fair (signed), paying from its book. Returns the
   * cost. The attacker module decides targets and budgets; this only prices and applies them.
   */
  pushTo(venue: VenueId, targetBps: number): TradeCost {
    const s = this.#state.get(venue);
    const spec = this.venues.get(venue);
    if (!s || !spec) throw new TypeError(`market: no venue ${venue}`);
    const cost = moveCost(spec.book, s.displacementBps, targetBps);
    s.displacementBps = targetBps;
    this.#refresh();
    return cost;
  }

  /** What moving `venue` to `targetBps` would cost now. */
  quoteMove(venue: VenueId, targetBps: number): TradeCost {
    const s = this.state(venue);
    return moveCost(this.venues.get(venue)!.book, s.displacementBps, targetBps);
  }

  /** Wash trading: the attacker trades with itself for `usd` of 24 h volume, paying two taker fees. */
  wash(venue: VenueId, usd: number): TradeCost {
    const s = this.#state.get(venue);
    const spec = this.venues.get(venue);
    if (!s || !spec) throw new TypeError(`market: no venue ${venue}`);
    s.washUsd24h += usd;
    return { notionalUsd: 2 * usd, spendUsd: (2 * usd * spec.book.feeBps) / 1e4 };
  }
}
