import { request } from "undici";
import { z } from "zod";

const LatestBlock = z.object({ result: z.object({ number: z.string(), timestamp: z.string() }) });

export interface DevnetClock {
  blocks: number;
  /** Latest block's timestamp minus the wall clock, seconds (hardhat automine: >= 1 s per block). */
  aheadOfWallClockSeconds: number;
}

/** The devnet's latest block (JSON-RPC eth_getBlockByNumber), to show how far its clock has run ahead. */
export async function readDevnetClock(rpcUrl: string): Promise<DevnetClock> {
  const res = await request(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_getBlockByNumber", params: ["latest", false] }),
  });
  const block = LatestBlock.parse(await res.body.json()).result;
  return { blocks: Number(BigInt(block.number)), aheadOfWallClockSeconds: Number(BigInt(block.timestamp)) - Date.now() / 1000 };
}
