import type { CreditEntry } from "../ledger/types.ts";
import { TollgateError } from "../lib/errors.ts";
import { atomicToUsd } from "../lib/money.ts";
import type { Challenge } from "../payment/challenge.ts";
import type { PaymentHeaders } from "../payment/header.ts";
import type { Offer } from "../payment/offer.ts";
import { bodyHash } from "../payment/quote.ts";
import { readSiwxProof, SIGN_IN_WITH_X, siwxDeclaration, SIWX_HEADER, type SiwxContext } from "../payment/siwx.ts";
import type { CallDeps } from "./deps.ts";
import { challengeFor, makeOffer, openCreditCall, type AdmitPayer, type OpenPaidCall, type PaidCall } from "./paid-call.ts";

/**
 * Credit (README "Credit"): an `exact` payer pays the price, the most the call could cost, and
 * what the call did not cost becomes credit on its wallet (call/lifecycle.ts, when the payment
 * is in). A request with no payment may carry a sign-in-with-x proof (payment/siwx.ts) instead;
 * then its wallet's credit pays: the whole call when it covers the price (no chain transaction),
 * else the 402 asks on chain only for the rest. Credit is spent on calls, never paid out.
 */

/** What an unpaid request gets: a call its credit pays for, or a 402 (less any credit it has). */
export type CreditOutcome = { kind: "call"; call: PaidCall } | { kind: "payment_required"; challenge: Challenge };

/** The request's part in it: its proof header, and what the call is. */
export interface UnpaidRequest {
  headers: PaymentHeaders;
  offer: Offer;
  requestId: string;
  labels: OpenPaidCall["labels"];
  /** The per-wallet limit (http/rate-limit.ts): a credit-paid call counts like a paid one. */
  admitPayer?: AdmitPayer | undefined;
}

const PAYMENT_REQUIRED = "Payment required to run this call";

export async function payWithCredit(deps: CallDeps, request: UnpaidRequest): Promise<CreditOutcome> {
  const { offer } = request;
  const ctx = siwxContext(deps);
  const signIn = () => siwxDeclaration(ctx, { resourceUrl: offer.resourceUrl, bodyHash: offer.bodyHash });
  const header = request.headers[SIWX_HEADER];
  if (header === undefined) return { kind: "payment_required", challenge: challengeFor(deps, offer, PAYMENT_REQUIRED, { signIn: signIn() }) };

  const refused = (why: string): CreditOutcome => ({
    kind: "payment_required",
    challenge: challengeFor(deps, offer, `${PAYMENT_REQUIRED}; the sign-in-with-x proof was not accepted: ${why}`, { signIn: signIn() }),
  });
  if (Array.isArray(header)) return refused("send one SIGN-IN-WITH-X header");
  const proof = await readSiwxProof(ctx, header, { resourceUrl: offer.resourceUrl, bodyHash: offer.bodyHash });
  if (!proof.ok) return refused(proof.reason);
  if (!(await deps.ledger.useProof(proof.nonceKey, proof.wallet, new Date(deps.now())))) return refused("it was already used; sign the new challenge");

  let balance = await deps.ledger.creditBalance(proof.wallet);
  if (balance >= offer.amount) {
    await request.admitPayer?.(proof.wallet);
    const call = await openCreditCall(deps, { wallet: proof.wallet, proofKey: proof.nonceKey, offer, requestId: request.requestId, labels: request.labels });
    if (call !== undefined) return { kind: "call", call };
    // Another call spent the credit between the read and the hold: price what is left.
    balance = await deps.ledger.creditBalance(proof.wallet);
  }
  if (balance === 0n) {
    return { kind: "payment_required", challenge: challengeFor(deps, offer, `${PAYMENT_REQUIRED}; wallet ${proof.wallet} has no credit`, { signIn: signIn() }) };
  }
  const { quote: _, ...fields } = offer;
  const { quoteExpiresAt: __, ...withCredit } = makeOffer(deps, { ...fields, amount: offer.amount - balance, credit: { wallet: proof.wallet, amount: balance } });
  const message = `${PAYMENT_REQUIRED}; ${atomicToUsd(balance)} USDC of wallet ${proof.wallet}'s credit pays part of it when that wallet pays the exact offer`;
  return { kind: "payment_required", challenge: challengeFor(deps, offer, message, { signIn: signIn(), withCredit }) };
}

/** How many of a wallet's credit movements its statement lists. */
const STATEMENT_ENTRIES = 50;

export type CreditStatement =
  | { kind: "sign_in_required"; challenge: Challenge }
  | { kind: "statement"; balance: bigint; entries: CreditEntry[] };

/**
 * A wallet's credit, shown to its owner only: the request must carry a sign-in-with-x proof for
 * this URL by that wallet (a 402 with no payment offers, only the sign-in declaration, asks for
 * one). Like every proof, it is good once.
 */
export async function creditStatement(deps: CallDeps, request: { wallet: `0x${string}`; headers: PaymentHeaders; resourceUrl: string }): Promise<CreditStatement> {
  const ctx = siwxContext(deps);
  const binding = { resourceUrl: request.resourceUrl, bodyHash: bodyHash({ creditOf: request.wallet.toLowerCase() }) };
  const signInRequired = (why: string): CreditStatement => {
    const error = `Sign in with wallet ${request.wallet} (x402 sign-in-with-x) to see its credit${why}`;
    return {
      kind: "sign_in_required",
      challenge: {
        header: { x402Version: 2, error, resource: { url: request.resourceUrl, description: `Credit of ${request.wallet}`, mimeType: "application/json" }, accepts: [], extensions: { [SIGN_IN_WITH_X]: siwxDeclaration(ctx, binding) } },
        v1Body: { x402Version: 1, error, accepts: [] },
      },
    };
  };
  const header = request.headers[SIWX_HEADER];
  if (header === undefined) return signInRequired("");
  if (Array.isArray(header)) return signInRequired("; send one SIGN-IN-WITH-X header");
  const proof = await readSiwxProof(ctx, header, binding);
  if (!proof.ok) return signInRequired(`; the proof was not accepted: ${proof.reason}`);
  if (proof.wallet.toLowerCase() !== request.wallet.toLowerCase()) {
    throw new TollgateError("sign_in_wrong_wallet", `the proof is signed by ${proof.wallet}; only ${request.wallet} can see its credit`, { param: "SIGN-IN-WITH-X" });
  }
  if (!(await deps.ledger.useProof(proof.nonceKey, proof.wallet, new Date(deps.now())))) return signInRequired("; the proof was already used, sign the new challenge");
  const [balance, entries] = await Promise.all([deps.ledger.creditBalance(proof.wallet), deps.ledger.creditEntries(proof.wallet, STATEMENT_ENTRIES)]);
  return { kind: "statement", balance, entries };
}

export function siwxContext(deps: CallDeps): SiwxContext {
  return { terms: deps.terms, quoteSecret: deps.quoteSecret, now: deps.now, ttlSeconds: deps.terms.maxTimeoutSeconds };
}
