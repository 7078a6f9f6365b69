import { timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { TollgateError } from "../lib/errors.ts";

/** `Authorization: Bearer <token>` with a constant-time comparison; refuses everything when no token is configured. */
export function bearerAuth(options: { token: string | undefined }): RequestHandler {
  const expected = options.token === undefined ? undefined : Buffer.from(options.token);
  return function requireBearer(req: Request, _res: Response, next: NextFunction): void {
    if (expected === undefined) {
      next(new TollgateError("unauthorized", "Admin endpoints are disabled: set ADMIN_TOKEN to enable them"));
      return;
    }
    // The auth-scheme is case-insensitive and separated from the credentials by 1*SP (RFC 9110 §11.1, §11.4).
    const match = /^bearer +(.+)$/i.exec(req.headers.authorization ?? "");
    const given = Buffer.from(match?.[1] ?? "");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      next(new TollgateError("unauthorized", "Missing or invalid admin token (Authorization: Bearer $ADMIN_TOKEN)"));
      return;
    }
    next();
  };
}
