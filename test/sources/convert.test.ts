/**
 * Quote conversion: a USDT market priced into USD through the configured conversion feed, and
 * refused, not guessed, when that feed has no price.
 */
import { describe, expect, it } from 'vitest';
import { SourceError, convertQuote, type SourceQuote } from '../../node/sources/index.ts';

const usdt: SourceQuote = { source: 'binance', feed: 'BTC/USD', price: 97412.18, volume: 18234.5512, receivedAtMs: 1, market: 'BTCUSDT', quote: 'USDT' };

describe('convertQuote', () => {
  it('prices a USDT market in USD through USDT/USD and records the conversion', () => {
    const q = convertQuote(usdt, { 'USDT/USD': 0.9996 });
    expect(q.price).toBeCloseTo(97412.18 * 0.9996, 8);
    expect(q).toMatchObject({ quote: 'USD', market: 'BTCUSDT', volume: 18234.5512 });
    expect(q.conversion).toEqual({ feed: 'USDT/USD', rate: 0.9996, fromQuote: 'USDT', originalPrice: 97412.18 });
  });

  it('follows a depeg instead of assuming 1.0', () => {
    expect(convertQuote(usdt, { 'USDT/USD': 0.95 }).price).toBeCloseTo(92541.571, 3);
  });

  it('returns a quote already in the feed currency unchanged', () => {
    const usd = { ...usdt, market: 'BTC-USD', quote: 'USD' };
    expect(convertQuote(usd, {})).toBe(usd);
  });

  it.each([
    [{}, /market BTCUSDT is quoted in USDT; no price for conversion feed USDT\/USD/],
    [{ 'USDT/USD': 0 }, /unusable price 0 for conversion feed USDT\/USD/],
    [{ 'USDT/USD': Number.NaN }, /unusable price NaN/],
  ])('refuses without a usable rate (%o)', (rates, message) => {
    let err: unknown;
    try {
      convertQuote(usdt, rates);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).kind).toBe('no_conversion');
    expect((err as SourceError).message).toMatch(message);
    expect((err as SourceError).message).toMatch(/^source binance: .*\(BTC\/USD\); excluded from this round; configure and price the conversion feed$/);
  });
});
