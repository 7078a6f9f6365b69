import type { x402Facilitator } from "@x402/core/facilitator";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { Router } from "express";
import { z } from "zod";
import { TollgateError } from "../../lib/errors.ts";
import { jsonBody } from "../json-body.ts";
import { loopbackOnly } from "../loopback-only.ts";

/**
 * x402 facilitator HTTP API (x402 spec v2 §7): the in-process facilitator, for local agents and
 * tools. It settles with the gateway's gas for any payTo, so it answers loopback clients only.
 * Requests are parsed here (the exact EVM scheme's shapes, x402 v1 and v2), so junk gets a 400
 * naming the field instead of reaching the facilitator.
 */
const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "a 0x-prefixed 20-byte hex address");
const Uint = z.string().regex(/^(0|[1-9]\d{0,77})$/, "a non-negative integer as a decimal string");
const Bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "0x-prefixed 32-byte hex");
const ExactEvmPayload = z.object({
  signature: z.string().regex(/^0x([0-9a-fA-F]{2})+$/, "0x-prefixed hex"),
  authorization: z.object({ from: Address, to: Address, value: Uint, validAfter: Uint, validBefore: Uint, nonce: Bytes32 }),
});
const Common = { scheme: z.string().min(1), network: z.string().min(1), asset: Address, payTo: Address, maxTimeoutSeconds: z.int().positive() };
const RequirementsV2 = z.object({ ...Common, amount: Uint, extra: z.record(z.string(), z.unknown()).optional() }).loose();
const RequirementsV1 = z.object({ ...Common, maxAmountRequired: Uint, resource: z.string(), extra: z.record(z.string(), z.unknown()).optional() }).loose();

const FacilitatorRequest = z.discriminatedUnion("x402Version", [
  z.object({
    x402Version: z.literal(2),
    paymentPayload: z.object({ x402Version: z.literal(2), accepted: RequirementsV2, payload: ExactEvmPayload }).loose(),
    paymentRequirements: RequirementsV2,
  }),
  z.object({
    x402Version: z.literal(1),
    paymentPayload: z.object({ x402Version: z.literal(1), scheme: z.string().min(1), network: z.string().min(1), payload: ExactEvmPayload }).loose(),
    paymentRequirements: RequirementsV1,
  }),
]);

function parse(raw: unknown): { payload: PaymentPayload; requirements: PaymentRequirements } {
  const parsed = FacilitatorRequest.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue?.path.join(".") || "body";
    throw new TollgateError("invalid_request", `${param}: ${issue?.message ?? "invalid"}`, { param });
  }
  // Validated above; the facilitator re-parses both with its own schemas. The agent's bytes go on unchanged.
  const body = raw as { paymentPayload: unknown; paymentRequirements: unknown };
  return { payload: body.paymentPayload as PaymentPayload, requirements: body.paymentRequirements as PaymentRequirements };
}

export function facilitatorRoutes(facilitator: x402Facilitator): Router {
  const router = Router();
  router.use("/facilitator", loopbackOnly());
  const body = jsonBody({ limitBytes: 64 * 1024 });

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
