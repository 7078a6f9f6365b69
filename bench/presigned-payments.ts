import { decodePaymentRequiredHeader } from "@x402/core/http";
import { request } from "undici";
import type { LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { z } from "zod";
import { base64Json, signAuthorization } from "../test/support/sign-payment.ts";

const Hex = z.string().regex(/^0x[0-9a-fA-F]+$/).transform((s) => s as `0x${string}`);

/** `GET /dev/info` on a zero-config Tollgate (README "Endpoints"). */
export const DevInfo = z.object({
  rpcUrl: z.string(),
  chainId: z.number(),
  asset: Hex,
  payTo: Hex,
  facilitatorUrl: z.string(),
  demoAgent: z.object({ address: Hex, privateKey: Hex }),
});
export type DevInfo = z.infer<typeof DevInfo>;

export async function readDevInfo(gatewayUrl: string): Promise<DevInfo> {
  const res = await request(`${gatewayUrl}/dev/info`);
  return DevInfo.parse(await res.body.json());
}

/** Tops up the demo agent from the devnet faucet (100 USDC, the faucet's per-call maximum). */
export async function fundAgent(gatewayUrl: string, address: `0x${string}`): Promise<void> {
  const res = await request(`${gatewayUrl}/dev/faucet`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ address, amount: "100000000" }) });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`faucet answered ${res.statusCode}: ${text}`);
}

export interface Payer {
  account: LocalAccount;
  asset: `0x${string}`;
  chainId: number;
}

export function payerFrom(info: DevInfo): Payer {
  return { account: privateKeyToAccount(info.demoAgent.privateKey), asset: info.asset, chainId: info.chainId };
}

/**
 * How long the pre-signed authorizations stay valid. Hardhat's automine gives every block a
 * timestamp at least one second after the previous one, so at several paid calls a second the
 * devnet's clock runs ahead of the wall clock by roughly one second per call; with the usual
 * five-minute window an authorization signed a few hundred calls earlier is already expired on
 * chain and its settlement reverts. An hour outlasts every run of compare.ts.
 */
const VALIDITY_SECONDS = 3_600n;

/**
 * `count` ready-to-send `PAYMENT-SIGNATURE` headers for `body`, each answering its own 402 with a
 * fresh EIP-3009 authorization (x402 v2 exact scheme), as an agent would. Signing is pure-JS
 * secp256k1 and costs milliseconds, so it happens here, before the timed region.
 */
export async function presignPayments(gatewayUrl: string, body: string, payer: Payer, count: number): Promise<string[]> {
  const headers: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await request(`${gatewayUrl}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
    await res.body.text();
    const challenge = res.headers["payment-required"];
    if (res.statusCode !== 402 || typeof challenge !== "string") throw new Error(`expected a 402 with PAYMENT-REQUIRED from ${gatewayUrl}, got ${res.statusCode}`);
    const accepted = decodePaymentRequiredHeader(challenge).accepts.find((a) => a.scheme === "exact");
    if (accepted === undefined) throw new Error("the 402 offers no payment requirements");
    const validBefore = BigInt(Math.floor(Date.now() / 1000)) + VALIDITY_SECONDS;
    const payload = await signAuthorization(payer.account, { asset: payer.asset, chainId: payer.chainId }, { to: accepted.payTo as `0x${string}`, value: BigInt(accepted.amount), validBefore });
    headers.push(base64Json({ x402Version: 2, accepted, payload }));
  }
  return headers;
}
