/**
 * Money is bigint atomic units of USDC (6 decimals: 1 USDC = 1_000_000n).
 * This is the only module that converts between decimal USD strings and atomic units.
 */

export const USDC_DECIMALS = 6;
const SCALE = 10n ** BigInt(USDC_DECIMALS);

/** Rates are "USD per 1M tokens"; stored as atomic USDC per 1M tokens so token math stays integral. */
export type AtomicPerMTok = bigint;

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/** "0.15" (USD) -> 150000n atomic units. Refuses more precision than USDC carries. */
export function usdToAtomic(usd: string): bigint {
  const match = DECIMAL.exec(usd.trim());
  if (!match) throw new RangeError(`not a non-negative decimal USD amount: ${JSON.stringify(usd)}`);
  const whole = match[1] ?? "0";
  const frac = match[2] ?? "";
  if (frac.length > USDC_DECIMALS && /[1-9]/.test(frac.slice(USDC_DECIMALS))) {
    throw new RangeError(`USD amount ${usd} has more than ${USDC_DECIMALS} decimals`);
  }
  return BigInt(whole) * SCALE + BigInt(frac.slice(0, USDC_DECIMALS).padEnd(USDC_DECIMALS, "0"));
}

/** 150000n -> "0.150000" */
export function atomicToUsd(atomic: bigint): string {
  const negative = atomic < 0n;
  const abs = negative ? -atomic : atomic;
  const whole = abs / SCALE;
  const frac = (abs % SCALE).toString().padStart(USDC_DECIMALS, "0");
  return `${negative ? "-" : ""}${whole}.${frac}`;
}

/**
 * A sub-atomic amount, `value` atomic units × 10^-extraDecimals, as an exact USD string: 6
 * decimals, plus as many more as it needs. (1_650_000_000n, 4) -> "0.165000", (15n, 1) -> "0.0000015".
 */
export function fineAtomicToUsd(value: bigint, extraDecimals: number): string {
  if (value < 0n) throw new RangeError("amount must be non-negative");
  const scale = 10n ** BigInt(extraDecimals);
  const finer = extraDecimals === 0 ? "" : (value % scale).toString().padStart(extraDecimals, "0").replace(/0+$/, "");
  return atomicToUsd(value / scale) + finer;
}

/** ceil(a / b) for non-negative bigints. */
export function ceilDiv(a: bigint, b: bigint): bigint {
  if (b <= 0n) throw new RangeError("divisor must be positive");
  if (a < 0n) throw new RangeError("dividend must be non-negative");
  return (a + b - 1n) / b;
}

/** Atomic cost of `tokens` at `ratePerMTok` (atomic units per 1M tokens), rounded up. */
export function tokenCost(tokens: number, ratePerMTok: AtomicPerMTok): bigint {
  return ceilDiv(BigInt(tokens) * ratePerMTok, 1_000_000n);
}
