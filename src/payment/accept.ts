import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { TollgateError } from "../lib/errors.ts";
import { requirementsV1, type PaymentRequirementsV1 } from "./challenge.ts";
import type { PaymentSubmission } from "./header.ts";
import { verifyLocally } from "./local-verify.ts";
import { permit2LedgerNonce } from "./permit2-nonce.ts";
import { verifyUptoLocally } from "./permit2-verify.ts";
import type { Offer } from "./offer.ts";
import { readQuote } from "./quote.ts";
import type { PaymentTerms } from "./terms.ts";

/** What accepting a payment needs to know: the terms, the quote key, the time. */
export interface AcceptContext {
  terms: PaymentTerms;
  quoteSecret: string;
  /** Milliseconds since the epoch. */
  now(): number;
}

/** A payment that matched its quote and passed the local checks; not yet reserved or verified. */
export interface AcceptedPayment {
  version: 1 | 2;
  /** `exact` (EIP-3009: the amount is what settles) or `upto` (Permit2: the amount is a maximum; the actual cost settles). */
  scheme: "exact" | "upto";
  payer: `0x${string}`;
  /** The signature was recovered to the payer here (EOA); a smart wallet's is the facilitator's to judge. */
  signatureChecked: boolean;
  nonce: `0x${string}`;
  amount: bigint;
  validBefore: number;
  /** The model the agent paid for and the output cap its price assumed. */
  model: string;
  outputCap: number;
  /** Credit of the payer's that pays the rest of the price (the quote applied it); 0n when none. */
  credit: bigint;
  /** What goes to the facilitator, in the payload's own protocol version. */
  payload: PaymentPayload;
  requirements: PaymentRequirements;
}

/**
 * Matches a decoded payment to the quote it pays for. v2 clients echo the requirements, quote
 * included, in `accepted`, so the paid retry runs at exactly the quoted model and price. v1
 * payloads echo nothing: they are matched against the offer made for this request now.
 */
export async function acceptPayment(deps: AcceptContext, offer: Offer, submission: PaymentSubmission): Promise<AcceptedPayment> {
  const { terms } = deps;
  const nowSeconds = Math.floor(deps.now() / 1000);
  let model: string;
  let outputCap: number;
  let amount: bigint;
  let credit: { wallet: string; amount: bigint } | undefined;
  let requirements: PaymentRequirements | PaymentRequirementsV1;

  if (submission.version === 2) {
    const { accepted } = submission;
    checkScheme(accepted.scheme, accepted.network, terms.network, "accepted", terms.upto === undefined ? ["exact"] : ["upto", "exact"]);
    if (accepted.asset.toLowerCase() !== terms.asset.toLowerCase()) {
      throw new TollgateError("unsupported_payment", `accepted.asset ${accepted.asset} is not the accepted token ${terms.asset}`, {
        param: "accepted.asset",
        details: { reason: "wrong_asset" },
      });
    }
    if (accepted.payTo.toLowerCase() !== terms.payTo.toLowerCase()) {
      throw new TollgateError("payment_mismatch", `accepted.payTo ${accepted.payTo} is not this gateway's payTo ${terms.payTo}`, {
        param: "accepted.payTo",
        details: { reason: "pay_to_mismatch" },
      });
    }
    const token = accepted.extra["quote"];
    if (typeof token !== "string") {
      throw new TollgateError("quote_invalid", "accepted.extra.quote is missing: pay the requirements from this gateway's 402", {
        param: "accepted.extra.quote",
        details: { reason: "missing" },
      });
    }
    const check = readQuote(token, deps.quoteSecret, nowSeconds);
    if (!check.ok) {
      const what = { malformed: "is malformed", bad_signature: "was altered or signed by another gateway", expired: "has expired; request a new one" }[check.reason];
      throw new TollgateError("quote_invalid", `accepted.extra.quote ${what}`, { param: "accepted.extra.quote", details: { reason: check.reason } });
    }
    const { claims } = check;
    if (claims.body !== offer.bodyHash) {
      throw new TollgateError("payment_mismatch", "the quote was issued for a different request body", {
        param: "accepted.extra.quote",
        details: { reason: "quote_for_other_body" },
      });
    }
    // The body hash covers `model`, so only a forged quote (a leaked secret) gets here; a request
    // that names its model still never runs on, or pays the price of, another one.
    if (offer.explicitModel !== undefined && claims.model !== offer.explicitModel) {
      throw new TollgateError("payment_mismatch", `the quote is for ${claims.model}, but the request asks for ${offer.explicitModel}`, {
        param: "accepted.extra.quote",
        details: { reason: "quote_for_other_model" },
      });
    }
    if (accepted.amount !== claims.amount) {
      throw new TollgateError("payment_mismatch", `accepted.amount ${accepted.amount} differs from the quoted ${claims.amount}`, {
        param: "accepted.amount",
        details: { reason: "amount_not_quoted" },
      });
    }
    model = claims.model;
    outputCap = claims.cap;
    amount = BigInt(claims.amount);
    if (claims.credit !== undefined && claims.wallet !== undefined) credit = { wallet: claims.wallet, amount: BigInt(claims.credit) };
    // Forward the client's own requirements: the facilitator checks the payload against them.
    requirements = { ...accepted, network: terms.network, asset: terms.asset, payTo: terms.payTo } satisfies PaymentRequirements;
  } else {
    if (terms.v1Network === undefined) {
      throw new TollgateError("unsupported_payment", `x402 v1 has no name for ${terms.network}; pay with PAYMENT-SIGNATURE (v2)`, {
        param: "X-PAYMENT",
        details: { reason: "v1_unavailable" },
      });
    }
    checkScheme(submission.scheme, submission.network, terms.v1Network, "X-PAYMENT");
    checkV1Lifetime(submission.authorization.validBefore, nowSeconds, terms.maxTimeoutSeconds);
    model = offer.model;
    outputCap = offer.outputCap;
    amount = offer.amount;
    requirements = requirementsV1(terms, offer, terms.v1Network);
  }

  if (submission.method === "permit2") {
    // checkScheme let `upto` through only when the facilitator settles it.
    const facilitatorAddress = terms.upto?.facilitatorAddress;
    if (facilitatorAddress === undefined) throw new Error("upto accepted without a facilitator that settles it");
    const { payer, signatureChecked } = verifyUptoLocally({ terms, authorization: submission.authorization, signature: submission.signature, expectedMaximum: amount, facilitatorAddress, nowSeconds });
    checkCreditHolder(credit, payer);
    return {
      version: 2,
      scheme: "upto",
      payer,
      signatureChecked,
      // Permit2's uint256 nonce as the ledger's bytes32: (payer, nonce) stays one payment (permit2-nonce.ts).
      nonce: permit2LedgerNonce(submission.authorization.nonce),
      amount,
      validBefore: Number(submission.authorization.deadline),
      model,
      outputCap,
      credit: 0n,
      payload: submission.raw as PaymentPayload,
      requirements: requirements as PaymentRequirements,
    };
  }
  const { payer, signatureChecked } = await verifyLocally({
    terms,
    authorization: submission.authorization,
    signature: submission.signature,
    expectedAmount: amount,
    nowSeconds,
  });
  checkCreditHolder(credit, payer);
  return {
    version: submission.version,
    scheme: "exact",
    payer,
    signatureChecked,
    nonce: submission.authorization.nonce,
    amount,
    validBefore: Number(submission.authorization.validBefore),
    model,
    outputCap,
    credit: credit?.amount ?? 0n,
    // The facilitator re-parses these with its own schemas; they are the agent's bytes, already validated above.
    payload: submission.raw as PaymentPayload,
    requirements: requirements as PaymentRequirements,
  };
}

/** A quote that applies a wallet's credit is paid by that wallet, or not at all. */
function checkCreditHolder(credit: { wallet: string } | undefined, payer: `0x${string}`): void {
  if (credit !== undefined && credit.wallet !== payer.toLowerCase()) {
    throw new TollgateError("payment_mismatch", `the quote applies the credit of ${credit.wallet}; only that wallet can pay it`, {
      param: "accepted.extra.quote",
      details: { reason: "credit_of_other_wallet" },
    });
  }
}

/** Allowance for an agent's clock running ahead of ours when it computed validBefore. */
export const V1_CLOCK_SKEW_SECONDS = 60;

/**
 * A v1 payload echoes no quote, so its expiry cannot be read: the authorization's window stands
 * in for it. x402 clients sign `validBefore = now + maxTimeoutSeconds` (the quote's lifetime); an
 * authorization valid for longer would outlive any quote this gateway issues, and could pay for
 * another request at the same price long after, which a v2 quote's `exp` rules out.
 */
function checkV1Lifetime(validBefore: bigint, nowSeconds: number, quoteTtlSeconds: number): void {
  if (validBefore > BigInt(nowSeconds + quoteTtlSeconds + V1_CLOCK_SKEW_SECONDS)) {
    throw new TollgateError(
      "payment_expired",
      `authorization is valid until ${validBefore}, longer than the quote's ${quoteTtlSeconds} s from now; sign for the 402's maxTimeoutSeconds`,
      { param: "authorization.validBefore", details: { reason: "valid_too_long" } },
    );
  }
}

function checkScheme(scheme: string, network: string, expectedNetwork: string, param: string, accepted: readonly string[] = ["exact"]): void {
  if (!accepted.includes(scheme)) {
    throw new TollgateError("unsupported_payment", `scheme '${scheme}' is not accepted; use ${accepted.map((s) => `'${s}'`).join(" or ")}`, {
      param: `${param}.scheme`,
      details: { reason: "wrong_scheme" },
    });
  }
  if (network !== expectedNetwork) {
    throw new TollgateError("unsupported_payment", `network '${network}' is not accepted; use '${expectedNetwork}'`, {
      param: `${param}.network`,
      details: { reason: "wrong_network" },
    });
  }
}
