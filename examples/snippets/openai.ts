import { wrapFetchWithPayment } from "@x402/fetch";
import OpenAI from "openai";
import { TOLLGATE_URL, x402 } from "./wallet.ts";

const openai = new OpenAI({
  baseURL: `${TOLLGATE_URL}/v1`,
  apiKey: "unused", // the client insists on one; the wallet pays instead
  fetch: wrapFetchWithPayment(fetch, x402),
  maxRetries: 0, // a refused payment does not get better with retries
});

const completion = await openai.chat.completions.create({
  model: "auto",
  messages: [{ role: "user", content: "Write a haiku about tolls" }],
});
console.log(completion.choices[0]?.message.content);
