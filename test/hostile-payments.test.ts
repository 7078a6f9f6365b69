import { decodePaymentRequiredHeader } from "@x402/core/http";
import type { PaymentRequirements } from "@x402/core/types";
import { randomBytes } from "node:crypto";
import { createWalletClient, http, type LocalAccount } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devUsdcAbi } from "../contracts-abi/abi.ts";
import { devnetTestAccount } from "../src/devnet/accounts.ts";
import { devnetChain } from "../src/devnet/chain.ts";
import type { ErrorCode } from "../src/lib/errors.ts";
import { QuoteClaims, signQuote } from "../src/payment/quote.ts";
import { startFakeOpenAI, type FakeOpenAI } from "./fakes/openai-upstream.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";
import { rawPost } from "./support/raw-http.ts";
import { base64Json, relayDecoy, signAuthorization, type AuthorizationFields, type TokenDomain } from "./support/sign-payment.ts";

/**
 * Hostile payments, table-driven: every malformed, mismatched, forged, replayed or unfunded
 * payment is refused with a specific stable code and a message that names the problem, and
 * costs nothing: the upstream is not called, no USDC moves (payer or payTo), and no ledger row
 * is written (or, for the one case the facilitator has to judge, the row is released unsettled).
 */

const MODEL = "gpt-4o-mini";
const chat = { model: MODEL, messages: [{ role: "user", content: "Is a toll road a public good?" }], max_tokens: 32 };
const otherChat = { ...chat, messages: [{ role: "user", content: "Something else entirely" }] };
const agent = devnetTestAccount(10);
const stranger = devnetTestAccount(11);
/** A key with no USDC at all: the facilitator's simulation must refuse it. */
const pauper = privateKeyToAccount(generatePrivateKey());
const UINT256_LIMIT = 2n ** 256n;

let gateway: TestGateway;
let upstream: FakeOpenAI;

beforeAll(async () => {
  upstream = await startFakeOpenAI({ content: "Partly." });
  gateway = await startTestGateway({ OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: upstream.url });
  await gateway.dev.faucet(agent.address, 10_000_000n);
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

// ---- Building payments -----------------------------------------------------------------------

interface Quoted {
  v2: PaymentRequirements;
  v1: { scheme: string; network: string; maxAmountRequired: string; payTo: `0x${string}` };
}

/** Asks the gateway for a 402 and returns what it asks for, in both protocol versions. */
async function quoteFor(body: unknown = chat): Promise<Quoted> {
  const res = await fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(res.status).toBe(402);
  const v2 = decodePaymentRequiredHeader(res.headers.get("PAYMENT-REQUIRED") ?? "").accepts.find((a) => a.scheme === "exact");
  const v1 = ((await res.json()) as { accepts: Array<Quoted["v1"]> }).accepts[0];
  if (v2 === undefined || v1 === undefined) throw new Error("402 without requirements");
  return { v2, v1 };
}

function domain(overrides: Partial<TokenDomain> = {}): TokenDomain {
  return { asset: gateway.dev.info.asset, chainId: 84532, ...overrides };
}

interface SignOptions {
  fields?: Partial<AuthorizationFields>;
  signer?: LocalAccount;
  domain?: Partial<TokenDomain>;
}

/** A v2 payload exactly as an honest x402 client builds it for `requirement`, before any tampering. */
async function v2Payload(requirement: PaymentRequirements, options: SignOptions = {}): Promise<Json> {
  const payload = await signAuthorization(options.signer ?? agent, domain(options.domain), {
    to: requirement.payTo as `0x${string}`,
    value: BigInt(requirement.amount),
    ...options.fields,
  });
  return { x402Version: 2, accepted: { ...requirement }, payload };
}

async function v1Payload(requirement: Quoted["v1"], options: SignOptions = {}): Promise<Json> {
  const payload = await signAuthorization(options.signer ?? agent, domain(options.domain), {
    to: requirement.payTo,
    value: BigInt(requirement.maxAmountRequired),
    ...options.fields,
  });
  return { x402Version: 1, scheme: requirement.scheme, network: requirement.network, payload };
}

type Json = Record<string, unknown>;
const DELETE = Symbol("delete");

/** A deep copy of `value` with the dotted `path` set to `to` (or removed). */
function edit(value: Json, path: string, to: unknown): Json {
  const copy = structuredClone(value);
  const keys = path.split(".");
  const last = keys.pop() ?? "";
  let node: Json = copy;
  for (const key of keys) node = node[key] as Json;
  if (to === DELETE) delete node[last];
  else node[last] = to;
  return copy;
}

function get(value: Json, path: string): unknown {
  return path.split(".").reduce<unknown>((node, key) => (node as Json)[key], value);
}

/** Splits a quote token into its claims and MAC, and signs new claims with the gateway's own secret. */
function quoteParts(requirement: PaymentRequirements) {
  const token = String(requirement.extra["quote"]);
  const [payload = "", mac = ""] = token.split(".");
  const claims = QuoteClaims.parse(JSON.parse(Buffer.from(payload, "base64url").toString("utf8")));
  return {
    token,
    payload,
    mac,
    claims,
    forge: (changes: Partial<QuoteClaims>) => signQuote({ ...claims, ...changes }, gateway.runtime.deps.quoteSecret),
  };
}

function withQuote(requirement: PaymentRequirements, quote: string): PaymentRequirements {
  return { ...requirement, extra: { ...requirement.extra, quote } };
}

const nowSeconds = () => BigInt(Math.floor(Date.now() / 1000));

// ---- Sending and proving nothing was lost ----------------------------------------------------

/** What one hostile case sends: headers through fetch, or raw header lines over a socket. */
type Attempt = { headers: Record<string, string>; body?: unknown } | { rawHeaderLines: Array<string | Buffer>; body?: unknown };

interface ErrorBody {
  /** Absent when the gateway served the call instead of refusing it. */
  error?: { code: string; message: string; param: string | null; type: string; reason?: string };
}

async function send(attempt: Attempt): Promise<{ status: number; body: ErrorBody }> {
  const body = JSON.stringify(attempt.body ?? chat);
  if ("rawHeaderLines" in attempt) {
    const res = await rawPost(gateway.url, "/v1/chat/completions", attempt.rawHeaderLines, body);
    return { status: res.status, body: JSON.parse(res.body) as ErrorBody };
  }
  const res = await fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...attempt.headers }, body });
  return { status: res.status, body: JSON.parse(await res.text()) as ErrorBody };
}

const v2Header = (payload: unknown) => ({ headers: { "PAYMENT-SIGNATURE": base64Json(payload) } });
const v1Header = (payload: unknown) => ({ headers: { "X-PAYMENT": base64Json(payload) } });

interface Books {
  upstreamRequests: number;
  payerBalance: bigint;
  payToBalance: bigint;
  /** Rows in the ledger, all wallets. */
  calls: number;
  /** Settled spend in the ledger, all wallets. */
  settled: bigint;
}

async function books(payer: `0x${string}`): Promise<Books> {
  const balanceOf = (address: `0x${string}`) =>
    gateway.publicClient.readContract({ address: gateway.dev.info.asset, abi: devUsdcAbi, functionName: "balanceOf", args: [address] });
  const [payerBalance, payToBalance, wallets] = await Promise.all([balanceOf(payer), balanceOf(gateway.dev.info.payTo), gateway.runtime.deps.ledger.wallets()]);
  return {
    upstreamRequests: upstream.requests.length,
    payerBalance,
    payToBalance,
    calls: wallets.reduce((sum, w) => sum + w.calls, 0),
    settled: wallets.reduce((sum, w) => sum + w.spent, 0n),
  };
}

// ---- The cases -------------------------------------------------------------------------------

interface HostileCase {
  name: string;
  prepare(): Promise<Attempt>;
  status: number;
  code: ErrorCode;
  /** The finer cause in the error body, when the code has several. */
  reason?: string;
  param?: string;
  /** The message must name the problem. */
  message: RegExp;
  /** Whose balance must not move; the agent's unless said otherwise. */
  payer?: LocalAccount;
  /**
   * Only a facilitator can judge some payments (funds on chain): those reserve their nonce and
   * are refused after, leaving one released row and no settlement.
   */
  reachesFacilitator?: boolean;
}

const header = (value: string): Attempt => ({ headers: { "PAYMENT-SIGNATURE": value } });
const malformed = (reason: string, message: RegExp): Pick<HostileCase, "status" | "code" | "reason" | "message"> => ({ status: 400, code: "invalid_payment_header", reason, message });

/** A case that takes a valid v2 payment for the current quote and tampers with one field of it. */
function tampered(name: string, path: string, to: unknown, expected: Omit<HostileCase, "name" | "prepare">): HostileCase {
  return {
    name,
    prepare: async () => v2Header(edit(await v2Payload((await quoteFor()).v2), path, to)),
    ...expected,
  };
}

const cases: HostileCase[] = [
  // -- Not base64 JSON at all
  { name: "base64 garbage", prepare: async () => header("%%%not-base64%%%"), ...malformed("not_base64", /not base64/), param: "PAYMENT-SIGNATURE" },
  { name: "base64 of text that is not JSON", prepare: async () => header(Buffer.from("hello, toll booth").toString("base64")), ...malformed("not_json", /not base64-encoded JSON/) },
  { name: "base64 of a JSON array", prepare: async () => header(base64Json([2, { x402Version: 2 }])), ...malformed("not_object", /not a JSON object/) },
  { name: "base64 of JSON null", prepare: async () => header(base64Json(null)), ...malformed("not_object", /not a JSON object/) },
  { name: "base64 of a JSON number", prepare: async () => header(base64Json(2)), ...malformed("not_object", /not a JSON object/) },
  { name: "base64 of a JSON string", prepare: async () => header(base64Json("x402Version 2")), ...malformed("not_object", /not a JSON object/) },
  {
    name: "garbage around valid base64",
    prepare: async () => header(`!!${base64Json(await v2Payload((await quoteFor()).v2))}??`),
    ...malformed("not_base64", /not base64/),
  },
  {
    name: "a stray character after valid base64 (which a lenient decoder would drop)",
    prepare: async () => header(`${base64Json(await v2Payload((await quoteFor()).v2)).replace(/=+$/, "")}A`),
    ...malformed("not_base64", /not base64/),
  },
  {
    name: "valid base64 cut in two by a space",
    prepare: async () => {
      const encoded = base64Json(await v2Payload((await quoteFor()).v2));
      return header(`${encoded.slice(0, 40)} ${encoded.slice(40)}`);
    },
    ...malformed("not_base64", /not base64/),
  },
  { name: "an empty header", prepare: async () => header(""), ...malformed("empty", /empty/) },
  { name: "an oversized header", prepare: async () => header("A".repeat(9_000)), ...malformed("oversized", /longer than 8192/) },
  {
    name: "non-ASCII bytes in the header",
    prepare: async () => ({ rawHeaderLines: [Buffer.concat([Buffer.from("PAYMENT-SIGNATURE: eyJ4"), Buffer.from("€ü", "utf8"), Buffer.from("fQ==")])] }),
    ...malformed("not_base64", /not base64/),
  },

  // -- Wrong protocol version or header
  tampered("x402Version 0", "x402Version", 0, { ...malformed("wrong_version", /x402Version 2 \(got 0\)/) }),
  tampered("x402Version 3", "x402Version", 3, { ...malformed("wrong_version", /x402Version 2 \(got 3\)/) }),
  tampered('x402Version "2" as a string', "x402Version", "2", { ...malformed("wrong_version", /x402Version 2 \(got "2"\)/) }),
  tampered("no x402Version", "x402Version", DELETE, { ...malformed("wrong_version", /x402Version 2 \(got nothing\)/) }),
  {
    name: "a v1 payload in PAYMENT-SIGNATURE",
    prepare: async () => header(base64Json(await v1Payload((await quoteFor()).v1))),
    ...malformed("wrong_version", /belongs in X-PAYMENT/),
  },
  {
    name: "a v2 payload in X-PAYMENT",
    prepare: async () => v1Header(await v2Payload((await quoteFor()).v2)),
    ...malformed("wrong_version", /belongs in PAYMENT-SIGNATURE/),
    param: "X-PAYMENT",
  },
  {
    name: "both PAYMENT-SIGNATURE and X-PAYMENT",
    prepare: async () => {
      const quoted = await quoteFor();
      return { headers: { "PAYMENT-SIGNATURE": base64Json(await v2Payload(quoted.v2)), "X-PAYMENT": base64Json(await v1Payload(quoted.v1)) } };
    },
    ...malformed("both_headers", /either PAYMENT-SIGNATURE or X-PAYMENT/),
  },
  {
    // Node joins repeated unknown headers with ", "; a proxy may do the same.
    name: "PAYMENT-SIGNATURE sent twice (two header lines)",
    prepare: async () => {
      const quoted = await quoteFor();
      const [a, b] = [base64Json(await v2Payload(quoted.v2)), base64Json(await v2Payload(quoted.v2))];
      return { rawHeaderLines: [`PAYMENT-SIGNATURE: ${a}`, `PAYMENT-SIGNATURE: ${b}`] };
    },
    ...malformed("duplicate_header", /more than once/),
  },

  // -- Shape: fields missing, of the wrong type, or out of range
  tampered("no accepted", "accepted", DELETE, { ...malformed("schema", /accepted/) }),
  {
    // Written into the JSON text itself: JSON.parse makes "__proto__" an own key, never the prototype.
    name: "accepted smuggled under __proto__",
    prepare: async () => {
      const { accepted, ...rest } = await v2Payload((await quoteFor()).v2);
      const json = JSON.stringify(rest).replace(/^\{/, `{"__proto__":{"accepted":${JSON.stringify(accepted)}},`);
      return header(Buffer.from(json).toString("base64"));
    },
    ...malformed("schema", /accepted/),
  },
  tampered("no payload.authorization", "payload.authorization", DELETE, { ...malformed("schema", /payload\.authorization/) }),
  tampered("accepted.maxTimeoutSeconds as a string", "accepted.maxTimeoutSeconds", "300", { ...malformed("schema", /accepted\.maxTimeoutSeconds/) }),
  tampered("value as a JSON number", "payload.authorization.value", 1000, { ...malformed("schema", /payload\.authorization\.value/) }),
  tampered("validAfter as a JSON number", "payload.authorization.validAfter", 0, { ...malformed("schema", /payload\.authorization\.validAfter/) }),
  tampered('value as a float "1.5"', "payload.authorization.value", "1.5", { ...malformed("schema", /authorization\.value: a non-negative integer/) }),
  tampered('value negative "-1"', "payload.authorization.value", "-1", { ...malformed("schema", /authorization\.value: a non-negative integer/) }),
  tampered('value with an exponent "1e6"', "payload.authorization.value", "1e6", { ...malformed("schema", /authorization\.value: a non-negative integer/) }),
  tampered('value with a leading zero "0100"', "payload.authorization.value", "0100", { ...malformed("schema", /authorization\.value: a non-negative integer/) }),
  tampered("value in Arabic-Indic digits", "payload.authorization.value", "١٠٠", { ...malformed("schema", /authorization\.value: a non-negative integer/) }),
  tampered("value of 2^256", "payload.authorization.value", UINT256_LIMIT.toString(), { ...malformed("schema", /authorization\.value: exceeds uint256/) }),
  tampered("a nonce of 33 bytes", "payload.authorization.nonce", `0x${"ab".repeat(33)}`, { ...malformed("schema", /authorization\.nonce: 0x-prefixed 32-byte hex/) }),
  tampered("no nonce", "payload.authorization.nonce", DELETE, { ...malformed("schema", /authorization\.nonce/) }),
  tampered("a non-hex nonce", "payload.authorization.nonce", `0x${"zz".repeat(32)}`, { ...malformed("schema", /authorization\.nonce: 0x-prefixed 32-byte hex/) }),
  tampered("a from address of 19 bytes", "payload.authorization.from", `0x${"11".repeat(19)}`, { ...malformed("schema", /authorization\.from: 0x-prefixed 20-byte hex/) }),
  {
    name: "a 64-byte signature",
    prepare: async () => {
      const payment = await v2Payload((await quoteFor()).v2);
      return v2Header(edit(payment, "payload.signature", String(get(payment, "payload.signature")).slice(0, 2 + 128)));
    },
    ...malformed("schema", /payload\.signature: signature length out of range/),
  },
  {
    name: "a signature of odd hex length",
    prepare: async () => {
      const payment = await v2Payload((await quoteFor()).v2);
      return v2Header(edit(payment, "payload.signature", `${String(get(payment, "payload.signature"))}0`));
    },
    ...malformed("schema", /payload\.signature: 0x-prefixed hex/),
  },
  tampered("a non-hex signature", "payload.signature", `0x${"zz".repeat(65)}`, { ...malformed("schema", /payload\.signature: 0x-prefixed hex/) }),

  // -- Not what this gateway accepts
  tampered("an unknown scheme", "accepted.scheme", "stream", { status: 402, code: "unsupported_payment", reason: "wrong_scheme", param: "accepted.scheme", message: /scheme 'stream'.*'upto' or 'exact'/ }),
  tampered("an EIP-3009 payload labelled upto", "accepted.scheme", "upto", { ...malformed("schema", /upto payload is invalid: payload\.permit2Authorization/) }),
  tampered("another network (CAIP-2 id)", "accepted.network", "eip155:8453", { status: 402, code: "unsupported_payment", reason: "wrong_network", param: "accepted.network", message: /network 'eip155:8453'/ }),
  tampered("a v1 network name in a v2 payload", "accepted.network", "base-sepolia", { status: 402, code: "unsupported_payment", reason: "wrong_network", message: /network 'base-sepolia'.*eip155:84532/ }),
  {
    name: "another network (v1 name) in X-PAYMENT",
    prepare: async () => v1Header(edit(await v1Payload((await quoteFor()).v1), "network", "base")),
    status: 402,
    code: "unsupported_payment",
    reason: "wrong_network",
    param: "X-PAYMENT.network",
    message: /network 'base'.*base-sepolia/,
  },
  {
    name: "an unknown scheme in X-PAYMENT",
    prepare: async () => v1Header(edit(await v1Payload((await quoteFor()).v1), "scheme", "stream")),
    status: 402,
    code: "unsupported_payment",
    reason: "wrong_scheme",
    message: /scheme 'stream'/,
  },
  tampered("another asset", "accepted.asset", "0x036CbD53842c5426634e7929541eC2318f3dCF7e", { status: 402, code: "unsupported_payment", reason: "wrong_asset", param: "accepted.asset", message: /accepted\.asset 0x036C/ }),

  // -- Paying someone else, or another amount
  tampered("another payTo in accepted", "accepted.payTo", stranger.address, { status: 402, code: "payment_mismatch", reason: "pay_to_mismatch", param: "accepted.payTo", message: /accepted\.payTo/ }),
  {
    name: "another payTo in authorization.to",
    prepare: async () => v2Header(await v2Payload((await quoteFor()).v2, { fields: { to: stranger.address } })),
    status: 402,
    code: "payment_mismatch",
    reason: "pay_to_mismatch",
    param: "authorization.to",
    message: /authorization\.to .* is not this gateway's payTo/,
  },
  {
    name: "accepted.amount below the quote",
    prepare: async () => {
      const { v2 } = await quoteFor();
      return v2Header(await v2Payload({ ...v2, amount: (BigInt(v2.amount) - 1n).toString() }));
    },
    status: 402,
    code: "payment_mismatch",
    reason: "amount_not_quoted",
    param: "accepted.amount",
    message: /accepted\.amount \d+ differs from the quoted/,
  },
  {
    name: "accepted.amount above the quote",
    prepare: async () => {
      const { v2 } = await quoteFor();
      return v2Header(await v2Payload({ ...v2, amount: (BigInt(v2.amount) + 1n).toString() }));
    },
    status: 402,
    code: "payment_mismatch",
    reason: "amount_not_quoted",
    param: "accepted.amount",
    message: /accepted\.amount \d+ differs from the quoted/,
  },
  {
    name: "authorization.value below the quote",
    prepare: async () => {
      const { v2 } = await quoteFor();
      return v2Header(await v2Payload(v2, { fields: { value: BigInt(v2.amount) - 1n } }));
    },
    status: 402,
    code: "payment_mismatch",
    reason: "underpaid",
    param: "authorization.value",
    message: /authorization\.value \d+ differs from the quoted amount/,
  },
  {
    name: "authorization.value above the quote",
    prepare: async () => {
      const { v2 } = await quoteFor();
      return v2Header(await v2Payload(v2, { fields: { value: BigInt(v2.amount) * 1000n } }));
    },
    status: 402,
    code: "payment_mismatch",
    reason: "overpaid",
    param: "authorization.value",
    message: /authorization\.value \d+ differs from the quoted amount/,
  },
  {
    name: "an underpayment in X-PAYMENT",
    prepare: async () => {
      const { v1 } = await quoteFor();
      return v1Header(await v1Payload(v1, { fields: { value: 1n } }));
    },
    status: 402,
    code: "payment_mismatch",
    reason: "underpaid",
    message: /authorization\.value 1 differs/,
  },

  // -- Quotes: altered, forged, stale, or for something else
  {
    name: "a quote whose HMAC was altered",
    prepare: async () => {
      const { v2 } = await quoteFor();
      const { payload, mac } = quoteParts(v2);
      const flipped = `${mac.slice(0, -1)}${mac.endsWith("A") ? "B" : "A"}`;
      return v2Header(await v2Payload(withQuote(v2, `${payload}.${flipped}`)));
    },
    status: 402,
    code: "quote_invalid",
    reason: "bad_signature",
    param: "accepted.extra.quote",
    message: /altered or signed by another gateway/,
  },
  {
    name: "a quote whose claims were edited under the old HMAC (a cheaper price)",
    prepare: async () => {
      const { v2 } = await quoteFor();
      const { claims, mac } = quoteParts(v2);
      const cheaper = Buffer.from(JSON.stringify({ ...claims, amount: "1" })).toString("base64url");
      return v2Header(await v2Payload({ ...withQuote(v2, `${cheaper}.${mac}`), amount: "1" }));
    },
    status: 402,
    code: "quote_invalid",
    reason: "bad_signature",
    message: /altered or signed by another gateway/,
  },
  tampered("no quote in accepted.extra", "accepted.extra.quote", DELETE, { status: 402, code: "quote_invalid", reason: "missing", message: /accepted\.extra\.quote is missing/ }),
  tampered("a quote that is not a token", "accepted.extra.quote", "not-a-quote", { status: 402, code: "quote_invalid", reason: "malformed", message: /accepted\.extra\.quote is malformed/ }),
  {
    name: "a quote for another request body",
    prepare: async () => {
      const other = await quoteFor(otherChat);
      return v2Header(await v2Payload(other.v2));
    },
    status: 402,
    code: "payment_mismatch",
    reason: "quote_for_other_body",
    message: /quote was issued for a different request body/,
  },
  {
    // Only a holder of the quote secret could make this one: the test forges it with the gateway's own.
    name: "a quote for another model (same body, validly signed)",
    prepare: async () => {
      const { v2 } = await quoteFor();
      return v2Header(await v2Payload(withQuote(v2, quoteParts(v2).forge({ model: "gpt-4o" }))));
    },
    status: 402,
    code: "payment_mismatch",
    reason: "quote_for_other_model",
    message: /quote is for gpt-4o, but the request asks for gpt-4o-mini/,
  },
  {
    name: "an expired quote",
    prepare: async () => {
      const { v2 } = await quoteFor();
      return v2Header(await v2Payload(withQuote(v2, quoteParts(v2).forge({ exp: Number(nowSeconds()) - 1 }))));
    },
    status: 402,
    code: "quote_invalid",
    reason: "expired",
    message: /quote has expired/,
  },

  // -- The authorization's validity window
  {
    name: "an expired authorization",
    prepare: async () => v2Header(await v2Payload((await quoteFor()).v2, { fields: { validAfter: nowSeconds() - 3600n, validBefore: nowSeconds() - 60n } })),
    status: 402,
    code: "payment_expired",
    reason: "expired",
    param: "authorization.validBefore",
    message: /authorization expired at \d+/,
  },
  {
    name: "an authorization not valid yet",
    prepare: async () => v2Header(await v2Payload((await quoteFor()).v2, { fields: { validAfter: nowSeconds() + 600n, validBefore: nowSeconds() + 900n } })),
    status: 402,
    code: "payment_expired",
    reason: "not_yet_valid",
    param: "authorization.validAfter",
    message: /not valid before \d+/,
  },
  {
    name: "an authorization that expires too soon to settle",
    prepare: async () => v2Header(await v2Payload((await quoteFor()).v2, { fields: { validBefore: nowSeconds() + 10n } })),
    status: 402,
    code: "payment_expired",
    reason: "expires_too_soon",
    param: "authorization.validBefore",
    message: /less than 30s from now/,
  },
  {
    name: "an authorization valid until the end of uint256",
    prepare: async () => v2Header(await v2Payload((await quoteFor()).v2, { fields: { validBefore: UINT256_LIMIT - 1n } })),
    status: 402,
    code: "payment_expired",
    reason: "valid_too_long",
    param: "authorization.validBefore",
    message: /more than 86400s from now/,
  },

  // -- Signatures
  {
    name: "a signature by another key",
    prepare: async () => {
      return v2Header(await v2Payload((await quoteFor()).v2, { signer: stranger, fields: { from: agent.address } }));
    },
    status: 402,
    code: "invalid_signature",
    param: "signature",
    message: new RegExp(`signed by ${stranger.address}, not by authorization\\.from`, "i"),
  },
  {
    // Smart-wallet signatures cannot be checked offline, so the facilitator judges this one before
    // anything is reserved: no row appears under the agent's wallet and its nonce stays unused.
    name: "a smart-wallet-shaped signature (3 words of junk) under the agent's address, sent by a stranger",
    prepare: async () => {
      const payment = await v2Payload((await quoteFor()).v2, { signer: stranger, fields: { from: agent.address } });
      return v2Header(edit(payment, "payload.signature", `0x${"ab".repeat(96)}`));
    },
    status: 402,
    code: "payment_rejected",
    message: /facilitator rejected the payment/,
  },
  {
    name: "a signature over different fields (a smaller value)",
    prepare: async () => {
      const { v2 } = await quoteFor();
      const payment = await v2Payload(v2, { fields: { value: 1n } });
      return v2Header(edit(payment, "payload.authorization.value", v2.amount));
    },
    status: 402,
    code: "invalid_signature",
    message: /not by authorization\.from/,
  },
  {
    name: "a signature for another token contract",
    prepare: async () => v2Header(await v2Payload((await quoteFor()).v2, { domain: { asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e" } })),
    status: 402,
    code: "invalid_signature",
    message: /not by authorization\.from/,
  },
  {
    name: "a signature for another chain",
    prepare: async () => v2Header(await v2Payload((await quoteFor()).v2, { domain: { chainId: 8453 } })),
    status: 402,
    code: "invalid_signature",
    message: /not by authorization\.from/,
  },
  {
    name: "a 66-byte signature",
    prepare: async () => {
      const payment = await v2Payload((await quoteFor()).v2);
      return v2Header(edit(payment, "payload.signature", `${String(get(payment, "payload.signature"))}1b`));
    },
    status: 402,
    code: "invalid_signature",
    reason: "malformed_signature",
    param: "signature",
    message: /66 bytes/,
  },

  // -- Judged on chain
  {
    name: "a replay of a payment that already settled",
    prepare: async () => {
      const encoded = base64Json(await v2Payload((await quoteFor()).v2));
      const first = await send(header(encoded));
      expect(first.status).toBe(200);
      return header(encoded);
    },
    status: 409,
    code: "payment_replayed",
    reason: "nonce_reused",
    message: /already used/,
  },
  {
    name: "a payer with no USDC",
    prepare: async () => v2Header(await v2Payload((await quoteFor()).v2, { signer: pauper })),
    payer: pauper,
    reachesFacilitator: true,
    status: 402,
    code: "payment_rejected",
    reason: "invalid_exact_evm_insufficient_balance",
    message: /facilitator rejected the payment: invalid_exact_evm_insufficient_balance/,
  },
];

describe("hostile payments", () => {
  it(`covers at least 40 distinct hostile inputs (${cases.length})`, () => {
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    expect(cases.length).toBeGreaterThanOrEqual(40);
    console.info(`hostile payment cases: ${cases.length}`);
  });

  it.each(cases)("refuses $name with $code, serving and charging nothing", async (hostile) => {
    const attempt = await hostile.prepare();
    const payer = hostile.payer ?? agent;
    const before = await books(payer.address);

    const { status, body } = await send(attempt);

    expect({ status, code: body.error?.code }).toEqual({ status: hostile.status, code: hostile.code });
    expect(body.error?.message).toMatch(hostile.message);
    if (hostile.reason !== undefined) expect(body.error?.reason).toBe(hostile.reason);
    if (hostile.param !== undefined) expect(body.error?.param).toBe(hostile.param);

    const after = await books(payer.address);
    expect(after.upstreamRequests).toBe(before.upstreamRequests);
    expect(after.payerBalance).toBe(before.payerBalance);
    expect(after.payToBalance).toBe(before.payToBalance);
    expect(after.settled).toBe(before.settled);
    if (hostile.reachesFacilitator === true) {
      expect(after.calls).toBe(before.calls + 1);
      const recent = (await gateway.runtime.deps.ledger.wallet(payer.address))?.recent[0];
      expect(recent?.status).toBe("released");
    } else {
      expect(after.calls).toBe(before.calls);
    }
  });
});

// ---- Front-running the settlement with the payment's own nonce ---------------------------------

/**
 * The payer signs a second authorization with the same nonce, to itself for 1 unit, and has it
 * relayed (by anyone: it needs no ETH of the payer) while its call runs. The gateway's settlement
 * then finds the nonce used; a used nonce says nothing of who was paid, so the call must end as a
 * debt, with payTo unpaid, no transaction recorded, and the wallet refused until it pays.
 */
describe("front-running the settlement with the payment's own nonce", () => {
  const relayer = stranger;
  let accountIndex = 12;

  async function frontRun(form: { version: 1 | 2; stream: boolean }) {
    const payer = devnetTestAccount(accountIndex++);
    await gateway.dev.faucet(payer.address, 5_000_000n);
    const body = { ...chat, messages: [{ role: "user", content: `front-run v${form.version} ${form.stream ? "stream" : "json"}` }], ...(form.stream ? { stream: true } : {}) };
    const quoted = await quoteFor(body);
    const nonce = `0x${randomBytes(32).toString("hex")}` as `0x${string}`;
    const honest = form.version === 2 ? v2Header(await v2Payload(quoted.v2, { signer: payer, fields: { nonce } })) : v1Header(await v1Payload(quoted.v1, { signer: payer, fields: { nonce } }));

    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    upstream.setBehaviour(form.stream ? { streamGate: held } : { holdFirstByte: held });
    const before = await books(payer.address);
    try {
      const arrived = upstream.waitForRequests(upstream.requests.length + 1);
      const responding = fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...honest.headers }, body: JSON.stringify(body) });
      await arrived;
      const wallet = createWalletClient({ account: relayer, chain: devnetChain(gateway.dev.info.rpcUrl), transport: http(gateway.dev.info.rpcUrl, { retryCount: 0 }) });
      const hash = await relayDecoy({ payer, nonce, token: domain(), relayer: wallet, publicClient: gateway.publicClient });
      release();
      const res = await responding;
      return { payer, before, res, text: await res.text(), requestId: res.headers.get("x-tollgate-request-id") ?? "", decoyHash: hash };
    } finally {
      release();
      upstream.resetBehaviour();
    }
  }

  async function expectDebt(outcome: Awaited<ReturnType<typeof frontRun>>) {
    const row = await gateway.runtime.deps.ledger.get(outcome.requestId);
    expect(row?.status).toBe("unpaid");
    expect(row?.txHash).toBeNull();
    expect(row?.error).toMatch(/nonce consumed without paying/);
    const after = await books(outcome.payer.address);
    expect(after.payToBalance).toBe(outcome.before.payToBalance);
    expect(after.payerBalance).toBe(outcome.before.payerBalance); // the decoy paid the payer itself
    expect(after.settled).toBe(outcome.before.settled);

    const next = await quoteFor(otherChat);
    const refused = await send({ ...v2Header(await v2Payload(next.v2, { signer: outcome.payer })), body: otherChat });
    expect(refused.status).toBe(402);
    expect(refused.body.error?.code).toBe("unpaid_debt");
  }

  it("v2: withholds the answer and records a debt instead of the decoy's transaction", async () => {
    const outcome = await frontRun({ version: 2, stream: false });
    expect(outcome.res.status).toBe(502);
    expect((JSON.parse(outcome.text) as ErrorBody).error?.code).toBe("settlement_failed");
    expect(outcome.res.headers.get("PAYMENT-RESPONSE")).toBeNull();
    await expectDebt(outcome);
  });

  it("v1: withholds the answer and records a debt instead of the decoy's transaction", async () => {
    const outcome = await frontRun({ version: 1, stream: false });
    expect(outcome.res.status).toBe(502);
    expect((JSON.parse(outcome.text) as ErrorBody).error?.code).toBe("settlement_failed");
    expect(outcome.res.headers.get("X-PAYMENT-RESPONSE")).toBeNull();
    await expectDebt(outcome);
  });

  it("stream: ends the stream with a settlement error, no receipt, and records a debt", async () => {
    const outcome = await frontRun({ version: 2, stream: true });
    expect(outcome.res.status).toBe(200);
    expect(outcome.text).toContain("Partly.");
    expect(outcome.text).not.toContain("PAYMENT-RESPONSE");
    expect(outcome.text).toMatch(/"code":"settlement_failed"/);
    const settlementError = outcome.text.split("\n").find((line) => line.includes("settlement_failed")) ?? "";
    expect(settlementError.length).toBeLessThan(400);
    await expectDebt(outcome);
  });
});
