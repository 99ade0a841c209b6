/**
 * Exact conversion of a price to the on-chain fixed-point answer (`int192`, feed `decimals`).
 *
 * A JavaScript number is turned into digits through its shortest round-trip representation
 * (ECMAScript `Number.prototype.toString`), which is exactly the decimal an exchange sent when
 * the price was parsed from its JSON string. All rounding then happens on a bigint, half to
 * even, so `toFixedPoint(1.015, 2)` is `102n` and `toFixedPoint(0.1 + 0.2, 8)` is `30000000n`:
 * no binary-float garbage reaches the chain.
 */
import { ObserveError } from './errors.ts';

const INT192_MAX = (1n << 191n) - 1n;
const INT192_MIN = -(1n << 191n);
const MAX_DECIMALS = 36;

/** Round `price` to `decimals` fractional digits (half to even) and return it scaled as a bigint. */
export function toFixedPoint(price: number, decimals: number): bigint {
  if (!Number.isFinite(price)) {
    throw new ObserveError('invalid_number', `toFixedPoint: price ${price} is not a finite number; pass a finite price`);
  }
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_DECIMALS) {
    throw new ObserveError(
      'invalid_number',
      `toFixedPoint: decimals ${decimals} is not an integer in [0, ${MAX_DECIMALS}]; use the feed's on-chain decimals (default 8)`,
    );
  }
  const negative = price < 0;
  const { digits, exponent } = decimalDigits(Math.abs(price));
  // value = digits × 10^exponent; scaled = value × 10^decimals = digits × 10^shift
  const shift = exponent + decimals;
  let scaled: bigint;
  if (shift >= 0) {
    scaled = digits * 10n ** BigInt(shift);
  } else {
    const divisor = 10n ** BigInt(-shift);
    const quotient = digits / divisor;
    const remainder = digits % divisor;
    const twice = remainder * 2n;
    const roundUp = twice > divisor || (twice === divisor && quotient % 2n === 1n);
    scaled = roundUp ? quotient + 1n : quotient;
  }
  const result = negative ? -scaled : scaled;
  if (result > INT192_MAX || result < INT192_MIN) {
    throw new ObserveError(
      'out_of_range',
      `toFixedPoint: price ${price} with ${decimals} decimals is ${result}, outside int192; lower the feed's decimals`,
    );
  }
  return result;
}

/** Split a non-negative finite number into integer digits and a power-of-ten exponent. */
function decimalDigits(value: number): { digits: bigint; exponent: number } {
  const text = value.toString(); // shortest round-trip form, e.g. "123.45", "1e-7", "1.5e+21"
  const match = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(text);
  if (!match) {
    throw new ObserveError('invalid_number', `toFixedPoint: cannot read digits of ${text}`);
  }
  const [, intPart = '', fracPart = '', exp = '0'] = match;
  return { digits: BigInt(intPart + fracPart), exponent: Number(exp) - fracPart.length };
}
