import type { x402Facilitator } from "@x402/core/facilitator";
import type { CallDeps } from "../call/deps.ts";
import type { RateLimits } from "./rate-limit.ts";
import type { GatewayMetrics } from "../observability/metrics.ts";

/** Dev-mode extras: the devnet's facts for agents and a faucet. Absent in production. */
export interface DevTools {
  info: {
    rpcUrl: string;
    chainId: number;
    network: string;
    asset: `0x${string}`;
    payTo: `0x${string}`;
    facilitatorUrl: string;
    demoAgent: { address: `0x${string}`; privateKey: `0x${string}` };
  };
  /** Mints test USDC; returns the transaction hash. */
  faucet(address: `0x${string}`, amount: bigint): Promise<`0x${string}`>;
  /** Upper bound for one faucet call, atomic units. */
  faucetMax: bigint;
}

export interface AppDeps extends CallDeps {
  /** Every Prometheus metric of this gateway, served at /metrics. */
  metrics: GatewayMetrics;
  adminToken: string | undefined;
  /** Origins allowed to call from a browser (CORS_ORIGINS; `*`: any); empty: CORS off. */
  corsOrigins: readonly string[];
  /**
   * The simulator may answer while real money is taken (SIMULATOR=on off the devnet): every
   * response carries `x-tollgate-simulated: true` and every 402 body a note saying so.
   */
  simulated: boolean;
  maxBodyBytes: number;
  dev: DevTools | undefined;
  /** The in-process facilitator, served at /facilitator/* when present. */
  localFacilitator: x402Facilitator | undefined;
  /** False until start-up finished and while draining. */
  ready(): boolean;
  /** Rate limits on the per-call endpoints (README "Rate limits"). */
  rateLimits: RateLimits;
}
