// Shared by the snippets: an x402 client paying from the devnet's demo wallet (`npm start` running).
import { x402Client } from "@x402/core/client";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { privateKeyToAccount } from "viem/accounts";

export const TOLLGATE_URL = process.env["TOLLGATE_URL"] ?? "http://127.0.0.1:8402";

// The devnet hands out a funded key and its token's address; elsewhere use your own key and USDC.
const info = (await (await fetch(`${TOLLGATE_URL}/dev/info`)).json()) as {
  network: `${string}:${string}`;
  asset: string;
  demoAgent: { privateKey: `0x${string}` };
};
const account = privateKeyToAccount(info.demoAgent.privateKey);

export const x402 = new x402Client().register("eip155:*", new ExactEvmScheme(account));
// x402 clients pay only in the assets they know; the devnet token is not one of them.
x402.setSpendControls({ allowedAssets: [{ network: info.network, asset: info.asset }] });
