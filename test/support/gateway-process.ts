import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import type { DevChain } from "../../src/devnet/chain.ts";
import { DEV_USDC_DOMAIN } from "../../src/devnet/contracts.ts";

const root = resolve(import.meta.dirname, "../..");

/**
 * The gateway as its own process (`src/main.ts` under tsx), in "real network" mode against the
 * test's devnet chain and facilitator, the way it runs on Base Sepolia; resolves once /readyz
 * answers (start-up recovery has run by then). `env` adds to or overrides the environment.
 */
export async function spawnGateway(options: { port: number; chain: DevChain; facilitatorUrl: string; env: Record<string, string> }): Promise<ChildProcess> {
  const { port, chain } = options;
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      ...process.env,
      PORT: String(port),
      LOG_LEVEL: "warn",
      NETWORK: "eip155:84532",
      PAY_TO: chain.accounts.payTo.address,
      ASSET: chain.token,
      ASSET_NAME: DEV_USDC_DOMAIN.name,
      ASSET_VERSION: DEV_USDC_DOMAIN.version,
      RPC_URL: chain.rpcUrl,
      FACILITATOR_URL: options.facilitatorUrl,
      FACILITATOR_TIMEOUT_MS: "5000",
      ...options.env,
    },
  });
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}`);
    if (await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  throw new Error("gateway did not become ready");
}
