import type { x402Facilitator } from "@x402/core/facilitator";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { Router } from "express";
import { z } from "zod";
import { TollgateError } from "../../lib/errors.ts";
import { jsonBody } from "../json-body.ts";

/** x402 facilitator HTTP API (x402 spec v2 §7): the in-process facilitator, for other agents and tools. */
const FacilitatorRequest = z.object({
  x402Version: z.union([z.literal(1), z.literal(2)]),
  paymentPayload: z.object({ x402Version: z.union([z.literal(1), z.literal(2)]) }).loose(),
  paymentRequirements: z.object({ scheme: z.string(), network: z.string() }).loose(),
});

export function facilitatorRoutes(facilitator: x402Facilitator): Router {
  const router = Router();
  const body = jsonBody({ limitBytes: 64 * 1024 });

  const parse = (raw: unknown) => {
    const parsed = FacilitatorRequest.safeParse(raw);
    if (!parsed.success) {
      throw new TollgateError("invalid_request", `facilitator request: ${parsed.error.issues[0]?.path.join(".") ?? ""} ${parsed.error.issues[0]?.message ?? ""}`);
    }
    // The facilitator validates the payload and requirements with its own schemes.
    return { payload: parsed.data.paymentPayload as unknown as PaymentPayload, requirements: parsed.data.paymentRequirements as unknown as PaymentRequirements };
  };

  router.get("/facilitator/supported", function supported(_req, res) {
    res.json(facilitator.getSupported());
  });
  router.post("/facilitator/verify", body, async function verify(req, res) {
    const { payload, requirements } = parse(req.body);
    res.json(await facilitator.verify(payload, requirements));
  });
  router.post("/facilitator/settle", body, async function settle(req, res) {
    const { payload, requirements } = parse(req.body);
    res.json(await facilitator.settle(payload, requirements));
  });
  return router;
}
