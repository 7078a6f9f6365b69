import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonShapeBeyond, MAX_JSON_CONTAINERS, MAX_JSON_DEPTH } from "../src/http/json-body.ts";
import { countTokens, encodeTokens, EXACT_COUNT_STEPS, preloadTokenizer, tokenizerWork } from "../src/lib/tokenizer.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";

/**
 * Bounded work per request (issue 11): before payment, the gateway must answer any body up to
 * MAX_BODY_BYTES (1 MiB here) after work that grows at most linearly with it. Work is counted
 * with the o200k encoder's own step counter (BytePairEncoder#work), not timed, so a busy
 * machine cannot make these tests flake; bench/input-bound.ts measures the time.
 */

const MIB = 1_048_576;

// One gateway for the file: each starts its own hardhat devnet.
let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway();
});

afterAll(async () => {
  await gateway?.close();
});

/** `bytes` of pseudo-random lower-case letters: no spaces, so o200k's split leaves one piece. */
function spaceless(bytes: number, seed = 1): string {
  const chars = new Uint8Array(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
    chars[i] = 0x61 + ((x >> 8) % 26);
  }
  return Buffer.from(chars).toString("latin1");
}

/** Encoder steps spent while `run` runs (the gateway is in this process, so its requests count). */
async function workOf(run: () => Promise<unknown>): Promise<number> {
  const before = tokenizerWork();
  await run();
  return tokenizerWork() - before;
}

describe("the o200k encoder's work", () => {
  it("grows linearly with a piece's length (n log n at most), where tiktoken's loop grew with its square", () => {
    preloadTokenizer();
    const perByte = (text: string) => {
      const before = tokenizerWork();
      encodeTokens(text);
      return (tokenizerWork() - before) / text.length;
    };
    for (const make of [(n: number) => spaceless(n), (n: number) => "a".repeat(n), (n: number) => "ab".repeat(n / 2)]) {
      const small = perByte(make(64 * 1024));
      const large = perByte(make(256 * 1024));
      // Quadratic work would be 4x per byte here; a heap adds log2(256K)/log2(64K) = 18/16.
      expect(large / small).toBeLessThan(1.25);
      expect(large).toBeLessThan(80);
    }
  });
});

describe("hostile bodies at the gateway, before payment", () => {
  const post = async (path: string, body: string) => {
    const res = await fetch(`${gateway.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
    return { status: res.status, json: (await res.json()) as { error?: { code: string; message: string }; inputTokens?: number } };
  };
  const chat = (model: string, content: string) => JSON.stringify({ model, max_tokens: 16, messages: [{ role: "user", content }] });

  it("answers 1 MiB of spaceless ASCII naming gpt-4o after bounded work, the same as for 256 KiB", async () => {
    const quarter = spaceless(MIB / 4 - 100);
    const whole = spaceless(MIB - 100);
    let small: Awaited<ReturnType<typeof post>> | undefined;
    let large: Awaited<ReturnType<typeof post>> | undefined;
    const smallWork = await workOf(async () => (small = await post("/v1/chat/completions", chat("gpt-4o", quarter))));
    const largeWork = await workOf(async () => (large = await post("/v1/chat/completions", chat("gpt-4o", whole))));
    // gpt-4o has 128k tokens of context. Past the counting allowance the fit is judged on the
    // estimate (~0.28 tokens a letter here): 256 KiB passes and is priced at the byte bound (the
    // upstream would then refuse it, unpaid), 1 MiB is refused here.
    expect(small?.status).toBe(402);
    expect(large?.status).toBe(400);
    expect(large?.json.error?.code).toBe("context_length_exceeded");
    expect(large?.json.error?.message).toMatch(/about \d+ tokens \(estimated: too long to count exactly before payment\)/);
    // Linear at worst (4x the bytes, 4x the work); here both stop at the allowance.
    expect(largeWork).toBeLessThanOrEqual(4 * smallWork);
    expect(largeWork).toBeLessThan(EXACT_COUNT_STEPS * 1.05);
  });

  it("quotes a prompt too long to count exactly at no fewer tokens than o200k counts", async () => {
    // gpt-4.1 has a 1M-token context, so the same text fits and gets a price.
    const text = spaceless(MIB / 2);
    let answer: Awaited<ReturnType<typeof post>> | undefined;
    const work = await workOf(async () => (answer = await post("/v1/route", chat("gpt-4.1", text))));
    expect(answer?.status).toBe(200);
    expect(work).toBeLessThan(EXACT_COUNT_STEPS * 1.05);
    const exact = countTokens(text);
    expect(answer?.json.inputTokens).toBeGreaterThanOrEqual(exact);
    expect(answer?.json.inputTokens).toBeLessThanOrEqual(Buffer.byteLength(text) + 16);
  });

  it("counts 1 MiB of tool definitions within the same allowance as the messages", async () => {
    const tools = [{ type: "function", function: { name: "lookup", description: spaceless(MIB - 2_000), parameters: { type: "object", properties: {} } } }];
    let answer: Awaited<ReturnType<typeof post>> | undefined;
    const body = JSON.stringify({ model: "gpt-4.1", max_tokens: 16, messages: [{ role: "user", content: spaceless(1_000) }], tools });
    const work = await workOf(async () => (answer = await post("/v1/route", body)));
    expect(answer?.status).toBe(200);
    expect(work).toBeLessThan(EXACT_COUNT_STEPS * 1.05);
    expect(answer?.json.inputTokens).toBeGreaterThan(MIB - 2_000);
  });

  it("refuses 1 MiB of spaceless text as one embeddings input after bounded work", async () => {
    let answer: Awaited<ReturnType<typeof post>> | undefined;
    const work = await workOf(async () => (answer = await post("/v1/embeddings", JSON.stringify({ model: "text-embedding-3-small", input: spaceless(MIB - 100) }))));
    expect(answer?.status).toBe(400);
    expect(answer?.json.error?.code).toBe("context_length_exceeded");
    expect(work).toBeLessThan(EXACT_COUNT_STEPS * 1.05);
  });

  it("answers /v1/route for 1 MiB of spaceless text with the estimate, without encoding it", async () => {
    let answer: Awaited<ReturnType<typeof post>> | undefined;
    const work = await workOf(async () => (answer = await post("/v1/route", chat("auto", spaceless(MIB - 100)))));
    expect(answer?.status).toBe(200);
    expect(work).toBe(0);
  });
});

describe("JSON nesting and size in arrays and objects", () => {
  /** A chat body whose `metadata` holds arrays nested so that the body's deepest value is `depth` levels in. */
  const chatAtDepth = (depth: number) => JSON.stringify({ model: "gpt-4o-mini", max_tokens: 8, messages: [{ role: "user", content: "hi" }], metadata: JSON.parse(`${"[".repeat(depth - 1)}1${"]".repeat(depth - 1)}`) as unknown });

  const post = async (path: string, body: string) => {
    const res = await fetch(`${gateway.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
    return { status: res.status, json: (await res.json()) as { error?: { code: string; message: string } } };
  };

  it(`accepts a body ${MAX_JSON_DEPTH} levels deep and refuses one level more with 400 invalid_request naming the limit`, async () => {
    expect((await post("/v1/chat/completions", chatAtDepth(MAX_JSON_DEPTH))).status).toBe(402);
    const refused = await post("/v1/chat/completions", chatAtDepth(MAX_JSON_DEPTH + 1));
    expect(refused.status).toBe(400);
    expect(refused.json.error?.code).toBe("invalid_request");
    expect(refused.json.error?.message).toContain(`more than ${MAX_JSON_DEPTH} levels`);
  });

  it("refuses bodies nested 5,000 and 500,000 deep with 400 on every endpoint that reads JSON, Express routes included", async () => {
    const deep = (n: number) => `{"a":${"[".repeat(n)}${"]".repeat(n)}}`;
    for (const path of ["/v1/chat/completions", "/v1/route", "/v1/embeddings", "/facilitator/verify", "/facilitator/settle"]) {
      for (const body of [deep(5_000), path.startsWith("/facilitator") ? deep(30_000) : deep(500_000)]) {
        const answer = await post(path, body);
        expect(answer.status, path).toBe(400);
        expect(answer.json.error?.code, path).toBe("invalid_request");
      }
    }
    // The faucet reads at most 4 KiB: 2,000 levels fit in that.
    const faucet = await post("/dev/faucet", deep(2_000));
    expect(faucet.status).toBe(400);
    expect(faucet.json.error?.code).toBe("invalid_request");
  });

  it(`accepts ${MAX_JSON_CONTAINERS} arrays and objects in a body and refuses one more with 400 invalid_request naming the limit`, async () => {
    // The envelope holds 3 (the body, messages, the message); metadata's array and its items make up the rest.
    const body = (containers: number) => JSON.stringify({ model: "gpt-4o-mini", max_tokens: 8, messages: [{ role: "user", content: "hi" }], metadata: Array.from({ length: containers - 4 }, () => []) });
    expect((await post("/v1/chat/completions", body(MAX_JSON_CONTAINERS))).status).toBe(402);
    const refused = await post("/v1/chat/completions", body(MAX_JSON_CONTAINERS + 1));
    expect(refused.status).toBe(400);
    expect(refused.json.error?.code).toBe("invalid_request");
    expect(refused.json.error?.message).toContain(`more than ${MAX_JSON_CONTAINERS} arrays and objects`);
  });

  it("measures a body in one pass without recursion, brackets inside strings aside", () => {
    const unlimited = { depth: Number.POSITIVE_INFINITY, containers: Number.POSITIVE_INFINITY };
    const text = Buffer.from("[".repeat(10_000_000));
    expect(jsonShapeBeyond(text, unlimited)).toBeUndefined();
    expect(jsonShapeBeyond(text, { ...unlimited, depth: 9_999_999 })).toBe("depth");
    expect(jsonShapeBeyond(Buffer.from("[[],[],[]]"), { depth: 2, containers: 3 })).toBe("containers");
    expect(jsonShapeBeyond(Buffer.from("[[],[],[]]"), { depth: 2, containers: 4 })).toBeUndefined();
    expect(jsonShapeBeyond(Buffer.from(JSON.stringify({ a: "[[[[[[", b: ['\\"[[[', "{{{"] })), { depth: 2, containers: 3 })).toBeUndefined();
    expect(jsonShapeBeyond(Buffer.from('{"a":[[1]]}'), { depth: 2, containers: 10 })).toBe("depth");
    expect(jsonShapeBeyond(Buffer.from('{"a":[[1]]}'), { depth: 3, containers: 10 })).toBeUndefined();
  });
});
