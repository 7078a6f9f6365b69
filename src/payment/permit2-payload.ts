import { z } from "zod";
import { TollgateError } from "../lib/errors.ts";
import { Address, describeSchemaIssue, MAX_PAYMENT_HEADER_CHARS, RequirementsV2, Signature, Uint256 } from "./x402-fields.ts";

/**
 * The x402 v2 `upto` payment payload on EVM (specs/schemes/upto/scheme_upto_evm.md, "Payment
 * Payload"), as @x402/evm 2.27.0's UptoEvmScheme client builds it (`UptoPermit2Payload`):
 *
 *   {x402Version: 2, accepted: {scheme: "upto", ...}, payload: {signature, permit2Authorization:
 *    {from, permitted: {token, amount}, spender, nonce, deadline, witness: {to, facilitator, validAfter}}}}
 *
 * Every integer is a uint256 as a decimal string (the client writes `BigInt(...).toString()`),
 * the Permit2 nonce included: it is a random 256-bit number, not a bytes32 as in EIP-3009.
 * The header around it is already bounded by MAX_PAYMENT_HEADER_CHARS and the signature by the
 * same length range as `exact` (header.ts), so nothing parsed here can be unbounded.
 */

const UptoWitness = z.object({ to: Address, facilitator: Address, validAfter: Uint256 });

const UptoAuthorization = z.object({
  from: Address,
  permitted: z.object({ token: Address, amount: Uint256 }),
  spender: Address,
  nonce: Uint256,
  deadline: Uint256,
  witness: UptoWitness,
});

const UptoPayloadV2 = z.object({
  x402Version: z.literal(2),
  resource: z.object({ url: z.string().max(MAX_PAYMENT_HEADER_CHARS) }).loose().optional(),
  accepted: RequirementsV2.extend({ scheme: z.literal("upto") }),
  payload: z.object({ signature: Signature, permit2Authorization: UptoAuthorization }),
  extensions: z.record(z.string(), z.unknown()).optional(),
});

/** A Permit2 witness transfer authorization, parsed: lower-case addresses, bigint integers. */
export type UptoAuthorization = z.infer<typeof UptoAuthorization>;

/** A parsed upto payment: what the payer signed, and the requirements it says it accepted. */
export interface UptoSubmission {
  version: 2;
  scheme: "upto";
  /** The decoded JSON, unchanged: what goes to the facilitator once the checks pass. */
  raw: unknown;
  accepted: z.infer<typeof UptoPayloadV2>["accepted"];
  authorization: UptoAuthorization;
  signature: `0x${string}`;
  /** Top-level extensions (eip2612GasSponsoring carries the payer's EIP-2612 permit here). */
  extensions: Record<string, unknown> | undefined;
}

/**
 * Parses the decoded JSON of a PAYMENT-SIGNATURE header that pays with `upto`. Refuses anything
 * else with `invalid_payment_header` (reason `schema`), naming the first field at fault, so
 * nothing malformed reaches the local checks (permit2-verify.ts) or the facilitator.
 */
export function parseUptoPayment(json: unknown, header = "PAYMENT-SIGNATURE"): UptoSubmission {
  const parsed = UptoPayloadV2.safeParse(json);
  if (!parsed.success) {
    throw new TollgateError("invalid_payment_header", `${header} upto payload is invalid: ${describeSchemaIssue(parsed.error)}`, {
      param: header,
      details: { reason: "schema" },
    });
  }
  const { accepted, payload, extensions } = parsed.data;
  return {
    version: 2,
    scheme: "upto",
    raw: json,
    accepted,
    authorization: payload.permit2Authorization,
    signature: payload.signature,
    extensions,
  };
}
