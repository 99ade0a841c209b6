/**
 * Quote conversion: price a market quoted in another currency (BTCUSDT) into the feed's
 * currency (BTC/USD) through a configured conversion feed (USDT/USD).
 *
 * Stablecoins are not dollars: USDT has traded at 0.95 and USDC at 0.87. Treating them as 1.0
 * would let a depeg move every USD feed, so the conversion rate is itself an observed feed, and
 * a quote with no rate for its currency is excluded rather than guessed.
 */
import { SourceError } from './errors.ts';
import { splitFeed } from './source.ts';
import type { SourceQuote } from './types.ts';

/**
 * `quote` priced in its feed's quote currency. `conversionPrices` maps conversion feeds to their
 * current price, e.g. `{ 'USDT/USD': 0.9996 }`. A quote already in the feed's currency is
 * returned unchanged; one without a usable rate rejects with kind `no_conversion`.
 */
export function convertQuote(quote: SourceQuote, conversionPrices: Readonly<Record<string, number>>): SourceQuote {
  const target = splitFeed(quote.feed)?.quote;
  if (target === undefined) {
    throw new SourceError('unknown_feed', `feed "${quote.feed}" is not of the form BASE/QUOTE`, { source: quote.source, feed: quote.feed });
  }
  if (quote.quote === target) return quote;
  const conversionFeed = `${quote.quote}/${target}`;
  const rate = conversionPrices[conversionFeed];
  if (rate === undefined || !Number.isFinite(rate) || rate <= 0) {
    const seen = rate === undefined ? 'no price' : `unusable price ${rate}`;
    throw new SourceError(
      'no_conversion',
      `market ${quote.market} is quoted in ${quote.quote}; ${seen} for conversion feed ${conversionFeed}`,
      { source: quote.source, feed: quote.feed },
    );
  }
  return {
    ...quote,
    price: quote.price * rate,
    quote: target,
    conversion: { feed: conversionFeed, rate, fromQuote: quote.quote, originalPrice: quote.price },
  };
}
