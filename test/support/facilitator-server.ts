import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { z } from "zod";
import type { DevChain } from "../../src/devnet/chain.ts";
import { createInProcessFacilitator } from "../../src/payment/facilitator.ts";

/**
 * A real x402 facilitator (the in-process exact EVM scheme on the test's devnet) behind the x402
 * facilitator HTTP API, with fault injection: each endpoint can hang, fail with a status, answer
 * garbage, answer `settlement_pending`, or run a hook before doing the real work.
 */
export type Fault =
  | { kind: "none" }
  | { kind: "status"; status: number }
  | { kind: "malformed" }
  | { kind: "hang" }
  | { kind: "delay"; ms: number }
  /** Settle for real, but report it as still pending (as a facilitator whose receipt wait timed out). */
  | { kind: "report_pending" }
  /** Settle nothing and report success with this transaction (a lying or confused facilitator). */
  | { kind: "claim"; transaction: `0x${string}` };

export interface FacilitatorServer {
  url: string;
  calls: { verify: number; settle: number };
  fault: { verify: Fault; settle: Fault };
  /** Runs before a real settle (e.g. to drain the payer's balance in between). */
  beforeSettle: ((payload: PaymentPayload) => Promise<void>) | undefined;
  close(): Promise<void>;
}

const Body = z.object({ paymentPayload: z.record(z.string(), z.unknown()), paymentRequirements: z.record(z.string(), z.unknown()) });

export async function startFacilitatorServer(chain: DevChain): Promise<FacilitatorServer> {
  const local = createInProcessFacilitator({ wallet: chain.walletClientFor(chain.accounts.facilitator), network: "eip155:84532" });
  const hanging = new Set<ServerResponse>();
  const state: FacilitatorServer = {
    url: "",
    calls: { verify: 0, settle: 0 },
    fault: { verify: { kind: "none" }, settle: { kind: "none" } },
    beforeSettle: undefined,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? "";
    if (req.method === "GET" && path.endsWith("/supported")) return json(res, 200, local.facilitator.getSupported());
    const endpoint = path.endsWith("/verify") ? "verify" : path.endsWith("/settle") ? "settle" : undefined;
    if (endpoint === undefined) return json(res, 404, { error: "not found" });
    let raw = "";
    for await (const chunk of req) raw += String(chunk);
    const body = Body.parse(JSON.parse(raw));
    state.calls[endpoint] += 1;
    const fault = state.fault[endpoint];
    if (fault.kind === "hang") {
      hanging.add(res);
      return;
    }
    if (fault.kind === "status") return json(res, fault.status, { error: "injected failure" });
    if (fault.kind === "malformed") return json(res, 200, { ok: "maybe" });
    if (fault.kind === "delay") await new Promise((r) => setTimeout(r, fault.ms));
    const payload = body.paymentPayload as PaymentPayload;
    const requirements = body.paymentRequirements as PaymentRequirements;
    if (endpoint === "verify") return json(res, 200, await local.facilitator.verify(payload, requirements));
    if (state.beforeSettle !== undefined) await state.beforeSettle(payload);
    const claimed = state.fault.settle;
    if (claimed.kind === "claim") return json(res, 200, { success: true, transaction: claimed.transaction, network: requirements.network, payer: (payload.payload as { authorization?: { from?: string } }).authorization?.from });
    const result = await local.facilitator.settle(payload, requirements);
    if (fault.kind === "report_pending") return json(res, 200, { ...result, success: false, errorReason: "settlement_pending" });
    return json(res, 200, result);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => json(res, 500, { error: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
}
