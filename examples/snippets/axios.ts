import { wrapAxiosWithPayment } from "@x402/axios";
import axios from "axios";
import { TOLLGATE_URL, x402 } from "./wallet.ts";

const api = wrapAxiosWithPayment(axios.create({ baseURL: `${TOLLGATE_URL}/v1` }), x402);

const { data } = await api.post("/chat/completions", {
  model: "auto",
  messages: [{ role: "user", content: "Write a haiku about tolls" }],
});
console.log(data.choices[0].message.content);
