import { ChatOpenAI } from "@langchain/openai";
import { wrapFetchWithPayment } from "@x402/fetch";
import { TOLLGATE_URL, x402 } from "./wallet.ts";

const model = new ChatOpenAI({
  model: "auto",
  apiKey: "unused", // the client insists on one; the wallet pays instead
  maxRetries: 0,
  configuration: { baseURL: `${TOLLGATE_URL}/v1`, fetch: wrapFetchWithPayment(fetch, x402) },
});

const reply = await model.invoke("Write a haiku about tolls");
console.log(reply.content);
