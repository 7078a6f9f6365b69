import type { Request } from "express";
import { z } from "zod";
import { TollgateError } from "../lib/errors.ts";

const WalletAddress = z.string().regex(/^0x[0-9a-fA-F]{40}$/);

/** The `:address` route parameter as a wallet address, or a 400 naming it. */
export function addressParam(req: Request): `0x${string}` {
  const address = WalletAddress.safeParse(req.params["address"]);
  if (!address.success) throw new TollgateError("invalid_request", "address must be a 0x-prefixed 20-byte hex address", { param: "address" });
  return address.data as `0x${string}`;
}
