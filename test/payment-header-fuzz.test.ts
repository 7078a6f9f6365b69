import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TollgateError } from "../src/lib/errors.ts";
import { MAX_PAYMENT_HEADER_CHARS, readPaymentHeader, type PaymentHeaders, type PaymentSubmission } from "../src/payment/header.ts";
import { verifyLocally } from "../src/payment/local-verify.ts";
import type { PaymentTerms } from "../src/payment/terms.ts";

/**
 * Property-based fuzzing of the payment header decoder: whatever an agent sends, readPaymentHeader
 * returns a well-formed submission, returns nothing, or throws a TollgateError with the code
 * `invalid_payment_header` and one of its known reasons; never another exception, never slowly.
 * The signature check behind it gets the same treatment for whatever decodes.
 */

const KNOWN_REASONS = new Set(["empty", "oversized", "duplicate_header", "not_base64", "not_json", "not_object", "wrong_version", "schema", "both_headers"]);
/** Generous for one synchronous decode of at most 8 KiB; a catastrophic regex or a loop would blow it. */
const MAX_MS_PER_DECODE = 50;
const HEADER_NAMES = ["payment-signature", "x-payment"] as const;

const runs = { total: 0, slowestMs: 0 };
let started = 0;

type Outcome = { kind: "decoded"; submission: PaymentSubmission } | { kind: "absent" } | { kind: "refused"; error: TollgateError };

/**
 * Decodes, timing the call, and turns every result into a value the property can inspect.
 * Checks in the hot loop are plain throws: vitest's expect costs about a millisecond a call.
 */
function decode(headers: PaymentHeaders): Outcome {
  runs.total += 1;
  const t0 = performance.now();
  let outcome: Outcome;
  try {
    const submission = readPaymentHeader(headers);
    outcome = submission === undefined ? { kind: "absent" } : { kind: "decoded", submission };
  } catch (error) {
    if (!(error instanceof TollgateError)) throw new Error(`readPaymentHeader threw a non-TollgateError: ${String(error)}`, { cause: error });
    outcome = { kind: "refused", error };
  }
  const ms = performance.now() - t0;
  runs.slowestMs = Math.max(runs.slowestMs, ms);
  if (ms >= MAX_MS_PER_DECODE) {
    // A garbage-collection pause lands on a random call; a slow input is slow every time.
    const again = Math.min(timeDecode(headers), timeDecode(headers));
    check(again < MAX_MS_PER_DECODE, `decode took ${ms.toFixed(1)} ms, then ${again.toFixed(1)} ms`);
  }
  return outcome;
}

function timeDecode(headers: PaymentHeaders): number {
  const t0 = performance.now();
  try {
    readPaymentHeader(headers);
  } catch {
    // Only the time matters here; decode() judged the outcome.
  }
  return performance.now() - t0;
}

function check(condition: boolean, problem: string): asserts condition {
  if (!condition) throw new Error(problem);
}

/** The invariants of every outcome: refusals are specific, submissions are fully parsed. */
function expectWellBehaved(outcome: Outcome): void {
  if (outcome.kind === "refused") {
    const { code, status, details, param } = outcome.error;
    check(code === "invalid_payment_header" && status === 400, `refused with ${code} (${status})`);
    check(KNOWN_REASONS.has(String(details?.["reason"])), `unknown reason ${String(details?.["reason"])}`);
    check(param === "PAYMENT-SIGNATURE" || param === "X-PAYMENT", `param ${String(param)}`);
    return;
  }
  if (outcome.kind === "absent") return;
  // The fuzzer mutates EIP-3009 payloads; an upto one would have to name accepted.scheme "upto".
  check(outcome.submission.method === "eip3009", "parsed as a Permit2 payment");
  if (outcome.submission.method !== "eip3009") return;
  const { authorization, signature } = outcome.submission;
  for (const address of [authorization.from, authorization.to]) check(/^0x[0-9a-f]{40}$/.test(address), `address ${address}`);
  check(/^0x[0-9a-f]{64}$/.test(authorization.nonce), `nonce ${authorization.nonce}`);
  for (const n of [authorization.value, authorization.validAfter, authorization.validBefore]) check(n >= 0n && n < 2n ** 256n, `uint256 ${n}`);
  check(/^0x(?:[0-9a-fA-F]{2}){65,4096}$/.test(signature), `signature ${signature.slice(0, 20)}...`);
}

const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => `0x${Buffer.from(b).toString("hex")}`);
const uint256 = fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }).map(String);

/** A v2 or v1 payload with every field valid and random; the decoder knows nothing of signatures. */
const validPayload = fc
  .record({
    version: fc.constantFrom(1, 2),
    from: hex(20),
    to: hex(20),
    asset: hex(20),
    value: uint256,
    validAfter: uint256,
    validBefore: uint256,
    nonce: hex(32),
    signature: fc.oneof(hex(65), hex(96), hex(200)),
    quote: fc.string({ maxLength: 200 }),
  })
  .map((f) => {
    const payload = {
      signature: f.signature,
      authorization: { from: f.from, to: f.to, value: f.value, validAfter: f.validAfter, validBefore: f.validBefore, nonce: f.nonce },
    };
    if (f.version === 1) return { x402Version: 1, scheme: "exact", network: "base-sepolia", payload };
    return {
      x402Version: 2,
      resource: { url: "http://127.0.0.1:8402/v1/chat/completions" },
      accepted: { scheme: "exact", network: "eip155:84532", asset: f.asset, amount: f.value, payTo: f.to, maxTimeoutSeconds: 300, extra: { name: "USDC", version: "2", quote: f.quote } },
      payload,
    };
  });

function headerFor(json: unknown, encoding: "base64" | "base64url" = "base64"): string {
  return Buffer.from(JSON.stringify(json)).toString(encoding);
}

function headersFor(payload: { x402Version: number }, value: string): PaymentHeaders {
  return payload.x402Version === 2 ? { "payment-signature": value } : { "x-payment": value };
}

// ---- Mutations of valid payloads -------------------------------------------------------------

type JsonObject = Record<string, unknown>;

/** Every path in a JSON tree, interior nodes included, as key lists. */
function paths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, child]) => [[...prefix, key], ...paths(child, [...prefix, key])]);
}

/** The same value in another JSON type: what a sloppy or hostile client sends instead. */
function swapType(value: unknown): unknown {
  if (typeof value === "string") return /^\d+$/.test(value) && value.length < 16 ? Number(value) : value.length;
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return String(value);
  if (value === null) return {};
  if (typeof value !== "object") return null;
  if (Array.isArray(value)) return Object.fromEntries(value.entries());
  return Object.values(value);
}

const OPS = ["delete", "swap_type", "replace_json", "huge_string", "upper_case", "add_field"] as const;

interface Mutation {
  /** Which path of the tree, modulo the number of paths at the time. */
  pick: number;
  op: (typeof OPS)[number];
  json: unknown;
  hugeLength: number;
  /** Own keys a prototype-polluting or confused client adds. */
  extraKey: string;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  pick: fc.nat(),
  op: fc.constantFrom(...OPS),
  json: fc.jsonValue({ maxDepth: 3 }),
  hugeLength: fc.integer({ min: 100, max: 2 * MAX_PAYMENT_HEADER_CHARS }),
  extraKey: fc.oneof(fc.constantFrom("__proto__", "constructor", "x402Version", "toString"), fc.string({ maxLength: 10 })),
});

function mutate(original: JsonObject, mutations: Mutation[]): JsonObject {
  const root = structuredClone(original);
  for (const m of mutations) {
    const all = paths(root);
    const path = all[m.pick % all.length];
    if (path === undefined) break;
    const key = path.at(-1) ?? "";
    const parent = path.slice(0, -1).reduce<JsonObject>((node, k) => node[k] as JsonObject, root);
    const current = parent[key];
    switch (m.op) {
      case "delete":
        delete parent[key];
        break;
      case "swap_type":
        parent[key] = swapType(current);
        break;
      case "replace_json":
        parent[key] = m.json;
        break;
      case "huge_string":
        parent[key] = typeof current === "string" && current.startsWith("0x") ? `0x${"ab".repeat(m.hugeLength / 2)}` : "9".repeat(m.hugeLength);
        break;
      case "upper_case":
        parent[key] = typeof current === "string" ? current.toUpperCase() : current;
        break;
      case "add_field": {
        const target = current !== null && typeof current === "object" && !Array.isArray(current) ? (current as JsonObject) : parent;
        // defineProperty: a plain assignment to "__proto__" would set the prototype, not a key.
        Object.defineProperty(target, m.extraKey, { value: m.json, enumerable: true, writable: true, configurable: true });
        break;
      }
    }
  }
  return root;
}

beforeAll(() => {
  // zod compiles a schema on its first parse: a one-off cost, not a slow decode.
  for (const payload of fc.sample(validPayload, 20)) readPaymentHeader(headersFor(payload, headerFor(payload)));
  started = performance.now();
});

afterAll(() => {
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  console.info(`payment header fuzz: ${runs.total} runs in ${seconds} s, slowest single call ${runs.slowestMs.toFixed(2)} ms`);
});

// ---- Properties ------------------------------------------------------------------------------

describe("readPaymentHeader under fuzzing", () => {
  it("refuses arbitrary strings with a known reason, in either header or both", () => {
    const anyString = fc.oneof(
      fc.string({ maxLength: 300, unit: "binary" }),
      fc.base64String({ maxLength: 400 }),
      fc.stringMatching(/^[A-Za-z0-9+/_=, -]{0,200}$/),
      fc.integer({ min: 0, max: 3 * MAX_PAYMENT_HEADER_CHARS }).map((n) => "A".repeat(n)),
    );
    const headers = fc.oneof(
      fc.record({ "payment-signature": anyString }),
      fc.record({ "x-payment": anyString }),
      fc.record({ "payment-signature": anyString, "x-payment": anyString }),
      fc.record({ "payment-signature": fc.array(anyString, { maxLength: 3 }) }),
    );
    fc.assert(
      fc.property(headers, (h) => expectWellBehaved(decode(h))),
      { numRuns: 600 },
    );
  });

  it("refuses base64 of arbitrary JSON with a known reason", () => {
    const json = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 }).map((o) => ({ x402Version: 2, ...o })),
      fc.record({ x402Version: fc.jsonValue({ maxDepth: 1 }), accepted: fc.jsonValue({ maxDepth: 2 }), payload: fc.jsonValue({ maxDepth: 3 }) }),
    );
    fc.assert(
      fc.property(json, fc.constantFrom(...HEADER_NAMES), fc.constantFrom("base64" as const, "base64url" as const), (value, name, encoding) => {
        expectWellBehaved(decode({ [name]: headerFor(value, encoding) }));
      }),
      { numRuns: 600 },
    );
  });

  it("decodes every valid payload exactly, in both base64 alphabets", () => {
    fc.assert(
      fc.property(validPayload, fc.constantFrom("base64" as const, "base64url" as const), (payload, encoding) => {
        const outcome = decode(headersFor(payload, headerFor(payload, encoding)));
        expect(outcome.kind).toBe("decoded");
        if (outcome.kind !== "decoded") return;
        const { authorization } = payload.payload;
        expect(outcome.submission.version).toBe(payload.x402Version);
        expect(outcome.submission.signature).toBe(payload.payload.signature);
        expect(outcome.submission.authorization).toEqual({
          from: authorization.from,
          to: authorization.to,
          value: BigInt(authorization.value),
          validAfter: BigInt(authorization.validAfter),
          validBefore: BigInt(authorization.validBefore),
          nonce: authorization.nonce,
        });
        expectWellBehaved(outcome);
      }),
      { numRuns: 300 },
    );
  });

  it("never crashes on mutated valid payloads: deleted fields, swapped types, huge strings", () => {
    fc.assert(
      fc.property(validPayload, fc.array(mutation, { minLength: 1, maxLength: 4 }), (payload, mutations) => {
        const mutated = mutate(payload, mutations);
        expectWellBehaved(decode(headersFor(payload, headerFor(mutated))));
      }),
      { numRuns: 1_000 },
    );
  });
});

describe("local verification under fuzzing", () => {
  const terms: PaymentTerms = {
    network: "eip155:84532",
    chainId: 84532,
    v1Network: "base-sepolia",
    asset: "0x036cbd53842c5426634e7929541ec2318f3dcf7e",
    assetName: "USDC",
    assetVersion: "2",
    payTo: "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc",
    maxTimeoutSeconds: 300,
  };
  const now = 1_750_000_000;

  it("answers a random signature over the right terms with invalid_signature, never a crash", async () => {
    const signature = fc.oneof(hex(65), hex(96), hex(66), fc.constantFrom(`0x${"00".repeat(65)}`, `0x${"ff".repeat(65)}`));
    await fc.assert(
      fc.asyncProperty(hex(20), hex(32), signature, async (from, nonce, sig) => {
        runs.total += 1;
        const input = {
          terms,
          authorization: { from: from as `0x${string}`, to: terms.payTo, value: 1_000n, validAfter: BigInt(now - 600), validBefore: BigInt(now + 300), nonce: nonce as `0x${string}` },
          signature: sig as `0x${string}`,
          expectedAmount: 1_000n,
          nowSeconds: now,
        };
        const result = await verifyLocally(input).then(
          (verified) => ({ ok: true as const, ...verified }),
          (error: unknown) => ({ ok: false as const, error }),
        );
        if (result.ok) {
          // Only smart-wallet-shaped signatures pass untested, for the facilitator to judge.
          expect((sig.length - 2) / 2 % 32).toBe(0);
          expect(result.payer).toBe(from);
          expect(result.signatureChecked).toBe(false);
          return;
        }
        expect(result.error).toBeInstanceOf(TollgateError);
        expect((result.error as TollgateError).code).toBe("invalid_signature");
      }),
      { numRuns: 200 },
    );
  });
});
