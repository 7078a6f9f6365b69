import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevChain, type DevChain } from "../src/devnet/chain.ts";
import { mintUsdc } from "../src/devnet/contracts.ts";

let chain: DevChain;
beforeAll(async () => {
  chain = await startDevChain();
});
afterAll(async () => {
  await chain?.stop();
});

describe("devnet clock", () => {
  it("keeps real time under a burst of transactions, so fresh authorizations stay valid on chain", async () => {
    const wallet = chain.walletClientFor(chain.accounts.deployer);
    for (let i = 0; i < 40; i++) await mintUsdc({ walletClient: wallet, publicClient: chain.publicClient, token: chain.token, to: chain.accounts.payTo.address, amount: 1n });
    const block = await chain.publicClient.getBlock({ blockTag: "latest" });
    // Hardhat's default puts each block a second after the last: 40 blocks would be 40 s ahead.
    expect(Number(block.timestamp) - Date.now() / 1000).toBeLessThan(5);
  });
});
