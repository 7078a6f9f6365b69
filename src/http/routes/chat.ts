import { sendChallenge, setReceipt } from "../x402-response.ts";
import { Router, type Request, type Response } from "express";
import { runChat } from "../../call/paid-chat.ts";
import { planCall, routingSettings } from "../../call/plan.ts";
import { parseAgentLimits } from "../../routing/limits.ts";
import type { AppDeps } from "../app-deps.ts";
import { setRouteHeaders, setServedHeaders } from "../headers.ts";
import { jsonBody } from "../json-body.ts";
import { paidRequest, resourceUrl } from "../paid-request.ts";
import { routeView } from "../route-view.ts";

/** Candidates shown in a 402's route: enough to see the fallbacks, small enough to send every time. */
const CHALLENGE_CANDIDATES = 4;

export function chatRoutes(deps: AppDeps): Router {
  const router = Router();
  const body = jsonBody({ limitBytes: deps.maxBodyBytes });
  const known = { models: deps.catalog.list().map((m) => m.id), providers: deps.catalog.providers() };
  const limitsOf = (req: Request) => parseAgentLimits(req.headers, known);

  router.post("/v1/chat/completions", body, async function chatCompletions(req: Request, res: Response) {
    const outcome = await runChat(deps, { ...paidRequest(req, res), body: req.body, limits: limitsOf(req) });

    if (outcome.kind === "payment_required") {
      setRouteHeaders(res, outcome.plan);
      res.setHeader("server-timing", outcome.timer.header());
      sendChallenge(res, outcome.challenge, { route: routeView(outcome.plan, deps.terms, CHALLENGE_CANDIDATES) });
      return;
    }

    setServedHeaders(res, outcome.meta);
    if (outcome.kind === "completed") {
      if (outcome.settlement !== undefined) {
        setReceipt(res, outcome.paid.version, outcome.settlement);
      }
      res.status(200).json(outcome.body);
      return;
    }

    res.status(200);
    res.setHeader("content-type", "text/event-stream; charset=utf-8");
    res.setHeader("cache-control", "no-cache");
    res.setHeader("x-accel-buffering", "no");
    res.flushHeaders();
    // Keep iterating after a disconnect: the generator records the failure or, when the
    // upstream already finished, settles the call the agent received.
    for await (const event of outcome.events) {
      if (res.destroyed) continue;
      if (!res.write(event)) await new Promise<void>((resolve) => {
        const done = () => { res.off("drain", done); res.off("close", done); resolve(); };
        res.once("drain", done);
        res.once("close", done);
      });
    }
    res.end();
  });

  router.post("/v1/route", body, function route(req: Request, res: Response) {
    const plan = planCall(deps, req.body, resourceUrl(req), {
      ...routingSettings(deps),
      health: deps.health.snapshot(deps.now()),
      limits: limitsOf(req),
    });
    setRouteHeaders(res, plan);
    res.json(routeView(plan, deps.terms));
  });

  return router;
}
