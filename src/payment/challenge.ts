import type { PaymentRequired, PaymentRequirements } from "@x402/core/types";
import type { SIWxExtension } from "@x402/extensions/sign-in-with-x";
import type { Offer } from "./offer.ts";
import { SIGN_IN_WITH_X } from "./siwx.ts";
import { EIP2612_GAS_SPONSORING, type PaymentTerms } from "./terms.ts";

/**
 * The EIP-2612 gas-sponsoring declaration (x402 extension `eip2612GasSponsoring`): the
 * facilitator takes the payer's EIP-2612 permit for Permit2 with the payment, so an upto payer
 * needs no approve transaction. `info` describes the offer; `schema` is what the client fills in.
 */
const GAS_SPONSORING = {
  info: { description: "An EIP-2612 permit of the token to the canonical Permit2 may travel with an upto payment instead of an approve transaction.", version: "1" },
  schema: {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    properties: {
      from: { type: "string", pattern: "^0x[a-fA-F0-9]{40}$" },
      asset: { type: "string", pattern: "^0x[a-fA-F0-9]{40}$" },
      spender: { type: "string", pattern: "^0x[a-fA-F0-9]{40}$" },
      amount: { type: "string", pattern: "^[0-9]+$" },
      nonce: { type: "string", pattern: "^[0-9]+$" },
      deadline: { type: "string", pattern: "^[0-9]+$" },
      signature: { type: "string", pattern: "^0x[a-fA-F0-9]+$" },
      version: { type: "string" },
    },
    required: ["from", "asset", "spender", "amount", "nonce", "deadline", "signature", "version"],
  },
} as const;

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

export interface ChallengeOptions {
  /** The `sign-in-with-x` declaration (payment/siwx.ts), so a wallet with credit can prove itself. */
  signIn?: SIWxExtension | undefined;
  /**
   * The same offer less the credit of the wallet that signed in (call/credit.ts): it replaces the
   * full-price `exact` entry and comes first, since it asks for less on chain.
   */
  withCredit?: Offer | undefined;
}

export function buildChallenge(terms: PaymentTerms, offer: Offer, error: string, options: ChallengeOptions = {}): Challenge {
  const accepts = terms.v1Network === undefined ? [] : [requirementsV1(terms, offer, terms.v1Network)];
  const upto = terms.upto === undefined ? [] : [requirementsUpto({ ...terms, upto: terms.upto }, offer)];
  const extensions = {
    ...(terms.upto?.gasSponsoring === true ? { [EIP2612_GAS_SPONSORING]: GAS_SPONSORING } : {}),
    ...(options.signIn === undefined ? {} : { [SIGN_IN_WITH_X]: options.signIn }),
  };
  return {
    header: {
      x402Version: 2,
      error,
      resource: { url: offer.resourceUrl, description: offer.description, mimeType: "application/json" },
      // upto first when the facilitator settles it: a client that has it pays only what the call
      // costs. A wallet's credit makes exact cheaper up front, so then exact comes first.
      accepts: options.withCredit === undefined ? [...upto, requirementsV2(terms, offer)] : [requirementsV2(terms, options.withCredit), ...upto],
      ...(Object.keys(extensions).length === 0 ? {} : { extensions }),
    },
    v1Body: { x402Version: 1, error, accepts },
  };
}
