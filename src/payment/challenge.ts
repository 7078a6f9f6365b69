import type { PaymentRequired, PaymentRequirements } from "@x402/core/types";
import type { Offer } from "./offer.ts";
import type { PaymentTerms } from "./terms.ts";

/** x402 v1 requirements (transports-v1 http.md): amount is `maxAmountRequired`, network by name. */
export interface PaymentRequirementsV1 {
  scheme: "exact";
  network: string;
  maxAmountRequired: string;
  resource: string;
  description: string;
  mimeType: string;
  payTo: string;
  maxTimeoutSeconds: number;
  asset: string;
  extra: Record<string, unknown>;
}

export interface Challenge {
  /** Value of the v2 `PAYMENT-REQUIRED` header (base64 JSON). */
  header: PaymentRequired;
  /** v1 JSON body `{x402Version:1, error, accepts}`. */
  v1Body: { x402Version: 1; error: string; accepts: PaymentRequirementsV1[] };
}

export function requirementsV2(terms: PaymentTerms, offer: Offer): PaymentRequirements {
  return {
    scheme: "exact",
    network: terms.network,
    asset: terms.asset,
    amount: offer.amount.toString(),
    payTo: terms.payTo,
    maxTimeoutSeconds: terms.maxTimeoutSeconds,
    extra: { name: terms.assetName, version: terms.assetVersion, quote: offer.quote },
  };
}

/**
 * The same offer under x402 `upto` (specs/schemes/upto/scheme_upto_evm.md): `amount` is the
 * maximum the payer signs over Permit2; the gateway settles the call's actual cost, at most that.
 */
export function requirementsUpto(terms: PaymentTerms & { upto: NonNullable<PaymentTerms["upto"]> }, offer: Offer): PaymentRequirements {
  return {
    scheme: "upto",
    network: terms.network,
    asset: terms.asset,
    amount: offer.amount.toString(),
    payTo: terms.payTo,
    maxTimeoutSeconds: terms.maxTimeoutSeconds,
    extra: { name: terms.assetName, version: terms.assetVersion, facilitatorAddress: terms.upto.facilitatorAddress, quote: offer.quote },
  };
}

export function requirementsV1(terms: PaymentTerms, offer: Offer, v1Network: string): PaymentRequirementsV1 {
  return {
    scheme: "exact",
    network: v1Network,
    maxAmountRequired: offer.amount.toString(),
    resource: offer.resourceUrl,
    description: offer.description,
    mimeType: "application/json",
    payTo: terms.payTo,
    maxTimeoutSeconds: terms.maxTimeoutSeconds,
    asset: terms.asset,
    extra: { name: terms.assetName, version: terms.assetVersion, quote: offer.quote },
  };
}

export function buildChallenge(terms: PaymentTerms, offer: Offer, error: string): Challenge {
  const accepts = terms.v1Network === undefined ? [] : [requirementsV1(terms, offer, terms.v1Network)];
  return {
    header: {
      x402Version: 2,
      error,
      resource: { url: offer.resourceUrl, description: offer.description, mimeType: "application/json" },
      // upto first when the facilitator settles it: a client that has it pays only what the call costs.
      accepts: terms.upto === undefined ? [requirementsV2(terms, offer)] : [requirementsUpto({ ...terms, upto: terms.upto }, offer), requirementsV2(terms, offer)],
    },
    v1Body: { x402Version: 1, error, accepts },
  };
}
