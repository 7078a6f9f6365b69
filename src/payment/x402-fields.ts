import { z } from "zod";

/** The zod pieces every x402 payload schema shares (payment/header.ts, payment/permit2-payload.ts). */

export const MAX_PAYMENT_HEADER_CHARS = 8_192;

export const Hex = (bytes: number) => z.string().regex(new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`), `0x-prefixed ${bytes}-byte hex`);
export const Address = Hex(20).transform((a) => a.toLowerCase() as `0x${string}`);
/** uint256 as a decimal string: integers only, no sign, no exponent, no float. */
export const Uint256 = z
  .string()
  .regex(/^(0|[1-9]\d{0,77})$/, "a non-negative integer as a decimal string")
  .transform((s) => BigInt(s))
  .refine((n) => n < 2n ** 256n, "exceeds uint256");

/** EOA signatures are 65 bytes; ERC-1271/6492 smart-wallet signatures are longer. */
export const Signature = z
  .string()
  .regex(/^0x([0-9a-fA-F]{2})+$/, "0x-prefixed hex")
  .refine((s) => s.length >= 2 + 65 * 2 && s.length <= 2 + 4096 * 2, "signature length out of range")
  .transform((s) => s as `0x${string}`);

export const RequirementsV2 = z.object({
  scheme: z.string(),
  network: z.string(),
  asset: z.string(),
  amount: z.string(),
  payTo: z.string(),
  maxTimeoutSeconds: z.number(),
  extra: z.record(z.string(), z.unknown()),
});

/** The first schema issue, as `path: message`, for an error that names the field. */
export function describeSchemaIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return "does not match the schema";
  return `${issue.path.join(".") || "(root)"}: ${issue.message}`;
}
