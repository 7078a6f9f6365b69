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
}

/** Checks the wallet paying for a request against its limit; throws 429 `rate_limited` when over. */
export type AdmitPayer = (payer: `0x${string}`) => Promise<void>;

/**
 * Wraps the per-call endpoints in their rate limits. A request without a payment header (and any
 * request to a path in `free`) takes a token from its client address's bucket before its body is
 * read. A request with one is the paying wallet's: the route gets `admitPayer`, which the paid
 * lifecycle calls once the payer is known (header parsed, an EOA's signature recovered) and
 * before anything is reserved or the facilitator is asked (call/paid-call.ts openPaidCall). So
 * that junk payment headers cannot slip past the unpaid limit, a request with one is refused
 * while its address's bucket is empty, and one refused before its wallet was admitted (malformed
 * header, bad signature, wrong quote) is charged to its address.
 */
export function limitRoutes(routes: Record<string, DirectRoute>, limits: RateLimits, free: ReadonlySet<string>): Record<string, DirectRoute> {
  if (limits.unpaid === undefined && limits.paid === undefined) return routes;
  return Object.fromEntries(Object.entries(routes).map(([path, route]) => [path, limited(route, limits, free.has(path))]));
}

function limited(route: DirectRoute, limits: RateLimits, free: boolean): DirectRoute {
  const { unpaid, paid, store } = limits;
  return async function rateLimited(req, res) {
    const paying = !free && carriesPayment(req);
    const addressKey = `${unpaid?.policy}:${limits.clientAddress(req)}`;
    if (unpaid !== undefined) {
      const taken = await store.take(addressKey, unpaid, paying ? 0 : 1);
      if (!taken.allowed) throw tooManyRequests(unpaid, taken, "requests without a payment from this address");
      if (!paying) setRateLimitHeaders(res, unpaid, taken);
    }
    if (!paying) return route(req, res, {});

    let admitted = false;
    const admitPayer: AdmitPayer = async (payer) => {
      if (paid !== undefined) {
        const taken = await store.take(`${paid.policy}:${payer.toLowerCase()}`, paid, 1);
        if (!taken.allowed) throw tooManyRequests(paid, taken, `paid calls from wallet ${payer}`);
        setRateLimitHeaders(res, paid, taken);
      }
      admitted = true;
    };
    try {
      await route(req, res, { admitPayer });
    } catch (error) {
      if (!admitted && unpaid !== undefined && error instanceof TollgateError && error.status < 500) {
        await store.take(addressKey, unpaid, 1);
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
