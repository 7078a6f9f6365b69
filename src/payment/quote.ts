import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { canonicalJson } from "./canonical-json.ts";

/**
 * Stateless, tamper-proof quotes. The 402 carries `extra.quote` = base64url(JSON claims) + "." +
 * base64url(HMAC-SHA256(secret, claims)). The v2 client echoes the requirements back in
 * `accepted`, so any replica holding the secret can check that the paid retry is for the same
 * body, model and amount, and run it at exactly the quoted model even if routing changed since.
 */

export const QuoteClaims = z.object({
  v: z.literal(1),
  /** sha256 of the canonical request body, base64url. */
  body: z.string().min(1),
  model: z.string().min(1),
  amount: z.string().regex(/^\d+$/),
  /** Output token cap the price assumed. */
  cap: z.int().positive(),
  /** Expiry, unix seconds. */
  exp: z.int().positive(),
  /**
   * Credit this quote applies (call/credit.ts): `amount` is the price less this, and only
   * `wallet`, whose credit it is, can pay it.
   */
  credit: z.string().regex(/^[1-9]\d*$/).optional(),
  wallet: z.string().regex(/^0x[0-9a-f]{40}$/).optional(),
});
export type QuoteClaims = z.infer<typeof QuoteClaims>;

export function signQuote(claims: QuoteClaims, secret: string): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  return `${payload}.${mac(payload, secret)}`;
}

export type QuoteCheck = { ok: true; claims: QuoteClaims } | { ok: false; reason: "malformed" | "bad_signature" | "expired" };

export function readQuote(token: string, secret: string, nowSeconds: number): QuoteCheck {
  const [payload, signature, ...rest] = token.split(".");
  if (payload === undefined || signature === undefined || rest.length > 0) return { ok: false, reason: "malformed" };
  const expected = Buffer.from(mac(payload, secret));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: "bad_signature" };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return { ok: false, reason: "malformed" };
  }
  const claims = QuoteClaims.safeParse(json);
  if (!claims.success) return { ok: false, reason: "malformed" };
  if (claims.data.exp <= nowSeconds) return { ok: false, reason: "expired" };
  return { ok: true, claims: claims.data };
}

function mac(payload: string, secret: string): string {
  return createHmac("sha256", secret).update(payload).digest("base64url");
}

/** sha256 over JSON with sorted keys, so key order and whitespace don't change the hash. */
export function bodyHash(body: unknown): string {
  return createHash("sha256").update(canonicalJson(body)).digest("base64url");
}
