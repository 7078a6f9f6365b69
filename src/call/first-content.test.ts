import { describe, expect, it } from "vitest";
import { createFirstContentWatch } from "./first-content.ts";

const event = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`;

function seesContent(...pieces: string[]): boolean {
  const watch = createFirstContentWatch();
  let seen = false;
  for (const piece of pieces) seen = watch.sees(new TextEncoder().encode(piece));
  return seen;
}

describe("createFirstContentWatch", () => {
  it("sees no content in the opening role chunk, a bare finish, the usage chunk, an error event or [DONE]", () => {
    expect(
      seesContent(
        event({ role: "assistant", content: "", refusal: null }),
        event({}, { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }),
        `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 0 } })}\n\n`,
        `data: ${JSON.stringify({ error: { message: "boom", code: "upstream_error" } })}\n\n`,
        ": PAYMENT-RESPONSE e30=\n\n",
        "data: [DONE]\n\n",
      ),
    ).toBe(false);
  });

  it("sees text, a refusal, tool calls and reasoning as content", () => {
    expect(seesContent(event({ content: "Hi" }))).toBe(true);
    expect(seesContent(event({ refusal: "I can't" }))).toBe(true);
    expect(seesContent(event({ tool_calls: [{ index: 0, id: "call_1", function: { name: "f", arguments: "" } }] }))).toBe(true);
    expect(seesContent(event({ reasoning_content: "Let me think" }))).toBe(true);
    expect(seesContent(event({ tool_calls: [] }))).toBe(false);
  });

  it("finds content in an event split across pieces, and stays true afterwards", () => {
    const whole = event({ content: "split" });
    const watch = createFirstContentWatch();
    expect(watch.sees(whole.slice(0, 20))).toBe(false);
    expect(watch.sees(whole.slice(20))).toBe(true);
    expect(watch.sees("data: [DONE]\n\n")).toBe(true);
  });

  it("takes string pieces as well as bytes", () => {
    expect(createFirstContentWatch().sees(event({ content: "text" }))).toBe(true);
  });
});
