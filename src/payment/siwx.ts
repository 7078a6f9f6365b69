import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { buildSIWxSchema, parseSIWxHeader, SIGN_IN_WITH_X, validateSIWxMessage, verifySIWxSignature, type SIWxExtension } from "@x402/extensions/sign-in-with-x";
import { getAddress } from "viem";
import { messageOf } from "../lib/errors.ts";
import type { PaymentTerms } from "./terms.ts";

/**
 * Sign-in-with-x (x402 extension `sign-in-with-x`, CAIP-122 / EIP-4361 messages): how a wallet
 * proves itself on a request that carries no payment, so its credit can pay (call/credit.ts).
 *
 * Every 402 declares the extension with a fresh nonce that this gateway can check without
 * keeping state: random bytes, an expiry and an HMAC (the quote secret) over both plus the
 * resource URL and the hash of the request body. A proof therefore answers one challenge, for one
 * body at one URL, until its expiry; the ledger records each nonce it accepts (`useProof`), so a
 * proof is used once. Signatures are checked here for EOAs (EIP-191); smart wallets (EIP-1271)
 * are not accepted for sign-in.
 */

export { SIGN_IN_WITH_X };

/** The request header that carries a proof (lowercase: node's header names). */
export const SIWX_HEADER = SIGN_IN_WITH_X;

/** What the wallet is asked to sign, shown by wallets. */
const STATEMENT = "Sign in to Tollgate to pay with this wallet's credit";

const RANDOM_HEX = 24;
const EXPIRY_HEX = 12;
const MAC_HEX = 32;

/** What a challenge and its proof are bound to. */
export interface SiwxBinding {
  /** The URL the request was made to (x402 `resource`). */
  resourceUrl: string;
  /** Canonical hash of the request body (payment/quote.ts bodyHash), or of what the resource names. */
  bodyHash: string;
}

export interface SiwxContext {
  terms: PaymentTerms;
  quoteSecret: string;
  /** Milliseconds since the epoch. */
  now(): number;
  /** How long a challenge's nonce stays good, seconds (the quote lifetime). */
  ttlSeconds: number;
}

/** The `sign-in-with-x` entry of a 402's `extensions`, with a nonce bound to this request. */
export function siwxDeclaration(ctx: SiwxContext, binding: SiwxBinding): SIWxExtension {
  const url = new URL(binding.resourceUrl);
  const issuedAt = ctx.now();
  const expiresAt = Math.floor(issuedAt / 1000) + ctx.ttlSeconds;
  const random = randomBytes(RANDOM_HEX / 2).toString("hex");
  const expiry = expiresAt.toString(16).padStart(EXPIRY_HEX, "0");
  return {
    info: {
      domain: url.host,
      uri: binding.resourceUrl,
      statement: STATEMENT,
      version: "1",
      nonce: `${random}${expiry}${nonceMac(ctx.quoteSecret, random, expiry, binding)}`,
      issuedAt: new Date(issuedAt).toISOString(),
      expirationTime: new Date(expiresAt * 1000).toISOString(),
    },
    supportedChains: [{ chainId: ctx.terms.network, type: "eip191" }],
    schema: buildSIWxSchema(),
  };
}

export type SiwxProof =
  | { ok: true; wallet: `0x${string}`; /** The key `useProof` records, so the proof is used once. */ nonceKey: string }
  | { ok: false; reason: string };

/**
 * Checks a `SIGN-IN-WITH-X` header against the request it came with: our nonce for this URL and
 * body, unexpired, on our chain, signed by the address it names. Does not record the nonce: the
 * caller does that with the ledger when it acts on the proof.
 */
export async function readSiwxProof(ctx: SiwxContext, header: string, binding: SiwxBinding): Promise<SiwxProof> {
  let payload;
  try {
    payload = parseSIWxHeader(header);
  } catch (error) {
    return { ok: false, reason: messageOf(error) };
  }
  if (payload.chainId !== ctx.terms.network) return { ok: false, reason: `chainId ${payload.chainId} is not this gateway's network ${ctx.terms.network}` };
  const nowSeconds = Math.floor(ctx.now() / 1000);
  const validation = await validateSIWxMessage(payload, new URL(binding.resourceUrl), {
    maxAge: ctx.ttlSeconds * 1000,
    checkNonce: (nonce) => nonceValid(ctx.quoteSecret, nonce, binding, nowSeconds),
  });
  if (!validation.isValid) return { ok: false, reason: `${validation.invalidReason}: ${validation.invalidMessage}` };
  const verification = await verifySIWxSignature(payload);
  if (!verification.isValid) return { ok: false, reason: `${verification.invalidReason}: ${verification.invalidMessage}` };
  return { ok: true, wallet: getAddress(verification.payer), nonceKey: createHash("sha256").update(payload.nonce).digest("hex") };
}

function nonceValid(secret: string, nonce: string, binding: SiwxBinding, nowSeconds: number): boolean {
  if (nonce.length !== RANDOM_HEX + EXPIRY_HEX + MAC_HEX || !/^[0-9a-f]+$/.test(nonce)) return false;
  const random = nonce.slice(0, RANDOM_HEX);
  const expiry = nonce.slice(RANDOM_HEX, RANDOM_HEX + EXPIRY_HEX);
  const given = Buffer.from(nonce.slice(RANDOM_HEX + EXPIRY_HEX));
  const expected = Buffer.from(nonceMac(secret, random, expiry, binding));
  return timingSafeEqual(given, expected) && Number.parseInt(expiry, 16) > nowSeconds;
}

function nonceMac(secret: string, random: string, expiry: string, binding: SiwxBinding): string {
  return createHmac("sha256", secret).update(`siwx\n${random}\n${expiry}\n${binding.resourceUrl}\n${binding.bodyHash}`).digest("hex").slice(0, MAC_HEX);
}
