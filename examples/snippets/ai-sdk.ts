import { createOpenAI } from "@ai-sdk/openai";
import { wrapFetchWithPayment } from "@x402/fetch";
import { generateText } from "ai";
import { TOLLGATE_URL, x402 } from "./wallet.ts";

const tollgate = createOpenAI({
  baseURL: `${TOLLGATE_URL}/v1`,
  apiKey: "unused", // the provider insists on one; the wallet pays instead
  fetch: wrapFetchWithPayment(fetch, x402),
});

// .chat(...): the Chat Completions API, which Tollgate serves.
const { text } = await generateText({ model: tollgate.chat("auto"), prompt: "Write a haiku about tolls", maxRetries: 0 });
console.log(text);
