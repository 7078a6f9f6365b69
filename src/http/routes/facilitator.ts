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
 * Requests are parsed here (x402 v1 and v2; an EIP-3009 `authorization` for `exact`, a Permit2
 * `permit2Authorization` for `upto` and exact-over-Permit2), so junk gets a 400 naming the field
 * instead of reaching the facilitator.
 */
const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "a 0x-prefixed 20-byte hex address");
const Uint = z.string().regex(/^(0|[1-9]\d{0,77})$/, "a non-negative integer as a decimal string");
const Bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "0x-prefixed 32-byte hex");
const Signature = z.string().regex(/^0x([0-9a-fA-F]{2})+$/, "0x-prefixed hex");
const Eip3009Payload = z.object({
  signature: Signature,
  authorization: z.object({ from: Address, to: Address, value: Uint, validAfter: Uint, validBefore: Uint, nonce: Bytes32 }),
});
/** x402 Permit2 payloads (specs/schemes/upto/scheme_upto_evm.md): PermitWitnessTransferFrom with its witness. */
const Permit2Payload = z.object({
  signature: Signature,
  permit2Authorization: z
    .object({
      from: Address,
      permitted: z.object({ token: Address, amount: Uint }),
      spender: Address,
      nonce: Uint,
      deadline: Uint,
      witness: z.object({ to: Address, validAfter: Uint }).loose(),
    })
    .loose(),
});
/** Which shape a payload has is told by its key, so a 400 names the missing field of that shape. */
const EvmPayload = z.unknown().superRefine((value, ctx) => {
  const isPermit2 = typeof value === "object" && value !== null && "permit2Authorization" in value;
  const parsed = (isPermit2 ? Permit2Payload : Eip3009Payload).safeParse(value);
  if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
});
const Common = { scheme: z.string().min(1), network: z.string().min(1), asset: Address, payTo: Address, maxTimeoutSeconds: z.int().positive() };
const RequirementsV2 = z.object({ ...Common, amount: Uint, extra: z.record(z.string(), z.unknown()).optional() }).loose();
const RequirementsV1 = z.object({ ...Common, maxAmountRequired: Uint, resource: z.string(), extra: z.record(z.string(), z.unknown()).optional() }).loose();

const FacilitatorRequest = z.discriminatedUnion("x402Version", [
  z.object({
    x402Version: z.literal(2),
    paymentPayload: z.object({ x402Version: z.literal(2), accepted: RequirementsV2, payload: EvmPayload }).loose(),
    paymentRequirements: RequirementsV2,
  }),
  z.object({
    x402Version: z.literal(1),
    paymentPayload: z.object({ x402Version: z.literal(1), scheme: z.string().min(1), network: z.string().min(1), payload: Eip3009Payload }).loose(),
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
