import type { NextFunction, Request, RequestHandler, Response } from "express";
import { TollgateError } from "../lib/errors.ts";

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

/** Refuses any request whose TCP peer is not a loopback address (proxy headers are ignored on purpose). */
export function loopbackOnly(): RequestHandler {
  return function requireLoopback(req: Request, _res: Response, next: NextFunction): void {
    const peer = req.socket.remoteAddress ?? "";
    if (LOOPBACK.has(peer)) next();
    else next(new TollgateError("forbidden", "Dev endpoints answer loopback clients only"));
  };
}
