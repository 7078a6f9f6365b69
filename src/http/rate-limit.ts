import type { IncomingMessage, ServerResponse } from "node:http";
import { TollgateError } from "../lib/errors.ts";
import type { BucketLimit, BucketStore, TakeResult } from "../limits/token-bucket.ts";
import type { ClientAddressOf } from "./client-address.ts";
import type { DirectRoute } from "./direct-routes.ts";

/** The operator's limits (README "Rate limits"); an absent limit is off. */
export interface RateLimits {
  /** Per client address: requests without a payment (402 challenges, /v1/route). */
  unpaid: BucketLimit | undefined;
  /** Per paying wallet: paid calls. */
  paid: BucketLimit | undefined;
  store: BucketStore;
  clientAddress: ClientAddressOf;
  /** Milliseconds on a monotonic clock, for what this process last saw of an address's bucket. */
  now: () => number;
}

/** Addresses whose bucket this process last saw empty, kept for the paid path; about 100 bytes each. */
const MAX_EMPTY_ADDRESSES = 10_000;

/** Checks the wallet paying for a request against its limit; throws 429 `rate_limited` when over. */
export type AdmitPayer = (payer: `0x${string}`) => Promise<void>;

/**
 * Wraps the per-call endpoints in their rate limits. A request without a payment header (and any
 * request to a path in `free`) takes a token from its client address's bucket before its body is
 * read. A request with one is the paying wallet's: the route gets `admitPayer`, which the paid
 * lifecycle calls once the payer is known (header parsed, an EOA's signature recovered) and
 * before anything is reserved or the facilitator is asked (call/paid-call.ts openPaidCall). So
 * that junk payment headers cannot slip past the unpaid limit, one refused before its wallet was
 * admitted (malformed header, bad signature, wrong quote) is charged to its address, and a request
 * with one is refused while this process last saw its address's bucket empty (a local lookup, so
 * a paid call costs one round trip to Redis, not two).
 */
export function limitRoutes(routes: Record<string, DirectRoute>, limits: RateLimits, free: ReadonlySet<string>): Record<string, DirectRoute> {
  if (limits.unpaid === undefined && limits.paid === undefined) return routes;
  const emptyUntil = new Map<string, number>();
  return Object.fromEntries(Object.entries(routes).map(([path, route]) => [path, limited(route, limits, emptyUntil, free.has(path))]));
}

function limited(route: DirectRoute, limits: RateLimits, emptyUntil: Map<string, number>, free: boolean): DirectRoute {
  const { unpaid, paid, store } = limits;
  /** Takes from an address's bucket, and remembers until when it is empty. */
  const takeForAddress = async (key: string, limit: BucketLimit): Promise<TakeResult> => {
    const taken = await store.take(key, limit);
    emptyUntil.delete(key);
    if (taken.remaining === 0) {
      emptyUntil.set(key, limits.now() + taken.nextTokenMs);
      for (const oldest of emptyUntil.keys()) {
        if (emptyUntil.size <= MAX_EMPTY_ADDRESSES) break;
        emptyUntil.delete(oldest);
      }
    }
    return taken;
  };
  return async function rateLimited(req, res) {
    const paying = !free && carriesPayment(req);
    const addressKey = `${unpaid?.policy}:${limits.clientAddress(req)}`;
    if (unpaid !== undefined && !paying) {
      const taken = await takeForAddress(addressKey, unpaid);
      if (!taken.allowed) throw tooManyRequests(unpaid, taken, "requests without a payment from this address");
      setRateLimitHeaders(res, unpaid, taken);
    }
    if (!paying) return route(req, res, {});
    const waitMs = (emptyUntil.get(addressKey) ?? 0) - limits.now();
    if (unpaid !== undefined && waitMs > 0) {
      throw tooManyRequests(unpaid, { allowed: false, remaining: 0, nextTokenMs: waitMs }, "requests without a payment from this address");
    }

    let admitted = false;
    const admitPayer: AdmitPayer = async (payer) => {
      if (paid !== undefined) {
        const taken = await store.take(`${paid.policy}:${payer.toLowerCase()}`, paid);
        if (!taken.allowed) throw tooManyRequests(paid, taken, `paid calls from wallet ${payer}`);
        setRateLimitHeaders(res, paid, taken);
      }
      admitted = true;
    };
    try {
      await route(req, res, { admitPayer });
    } catch (error) {
      if (!admitted && unpaid !== undefined && error instanceof TollgateError && error.status < 500) {
        await takeForAddress(addressKey, unpaid);
      }
      throw error;
    }
  };
}

function carriesPayment(req: IncomingMessage): boolean {
  return req.headers["payment-signature"] !== undefined || req.headers["x-payment"] !== undefined;
}

/**
 * The fields of the IETF httpapi ratelimit-headers draft (draft-ietf-httpapi-ratelimit-headers-11,
 * §3 and §4; the editors' copy after it accepts the policy name as a String or a Token, and a
 * String is valid in both): `RateLimit-Policy: "unpaid";q=<burst>;w=<seconds>`, the bucket as a
 * quota of `burst` requests per `w` seconds, the time it takes to refill (so q/w is the rate,
 * rounded to whole seconds as §3.1.3 requires), and `RateLimit: "unpaid";r=<left>;t=<seconds>`
 * with the whole requests left and, unless the bucket is full, the seconds until one more is
 * available (§4.1.2: within t seconds no more than r can be used).
 */
export function rateLimitHeaders(limit: BucketLimit, taken: TakeResult): Record<string, string> {
  const window = Math.max(1, Math.round(limit.burst / limit.ratePerSecond));
  const reset = taken.nextTokenMs === 0 ? "" : `;t=${Math.ceil(taken.nextTokenMs / 1000)}`;
  return {
    "RateLimit-Policy": `"${limit.policy}";q=${limit.burst};w=${window}`,
    RateLimit: `"${limit.policy}";r=${taken.remaining}${reset}`,
  };
}

function setRateLimitHeaders(res: ServerResponse, limit: BucketLimit, taken: TakeResult): void {
  for (const [name, value] of Object.entries(rateLimitHeaders(limit, taken))) res.setHeader(name, value);
}

/** 429 with Retry-After (RFC 9110 §10.2.3, delay-seconds) no earlier than the RateLimit `t`. */
function tooManyRequests(limit: BucketLimit, taken: TakeResult, what: string): TollgateError {
  const retryAfter = Math.max(1, Math.ceil(taken.nextTokenMs / 1000));
  return new TollgateError(
    "rate_limited",
    `Too many ${what}: the limit is ${limit.burst} at once, then ${limit.ratePerSecond} per second; retry in ${retryAfter} s`,
    { headers: { ...rateLimitHeaders(limit, taken), "Retry-After": String(retryAfter) }, details: { policy: limit.policy, retry_after: retryAfter } },
  );
}
