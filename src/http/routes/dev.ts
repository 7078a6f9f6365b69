import { Router } from "express";
import { z } from "zod";
import { TollgateError } from "../../lib/errors.ts";
import type { DevTools } from "../app-deps.ts";
import { jsonBody } from "../json-body.ts";
import { loopbackOnly } from "../loopback-only.ts";

const FaucetRequest = z.object({
  address: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/, "a 0x-prefixed 20-byte hex address")
    // ERC-20 mints to the zero address revert (OpenZeppelin ERC20InvalidReceiver): refuse them here.
    .refine((a) => !/^0x0{40}$/.test(a), "the zero address cannot receive test USDC"),
  amount: z.string().regex(/^[1-9]\d*$/, "atomic units as a decimal string, e.g. \"5000000\" for 5 USDC").optional(),
});

/** Dev mode only, loopback only: devnet facts and a test-USDC faucet. */
export function devRoutes(dev: DevTools): Router {
  const router = Router();
  router.use("/dev", loopbackOnly());

  router.get("/dev/info", function devInfo(_req, res) {
    res.json(dev.info);
  });

  router.post("/dev/faucet", jsonBody({ limitBytes: 4096 }), async function faucet(req, res) {
    const parsed = FaucetRequest.safeParse(req.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const param = issue?.path.join(".") || "body";
      throw new TollgateError("invalid_request", `${param}: ${issue?.message ?? "invalid"}`, { param });
    }
    const amount = BigInt(parsed.data.amount ?? "10000000");
    if (amount > dev.faucetMax) {
      throw new TollgateError("invalid_request", `amount may be at most ${dev.faucetMax} atomic units per call`, { param: "amount" });
    }
    const address = parsed.data.address.toLowerCase() as `0x${string}`;
    const transaction = await dev.faucet(address, amount);
    res.json({ address, amount: amount.toString(), transaction });
  });
  return router;
}
