import type { IncomingMessage, ServerResponse } from "node:http";
import { runChat, type StreamSink } from "../../call/paid-chat.ts";
import { planCall, routingSettings } from "../../call/plan.ts";
import { parseAgentLimits } from "../../routing/limits.ts";
import type { AppDeps } from "../app-deps.ts";
import type { DirectRoute, RouteLimits } from "../direct-routes.ts";
import { setCostHeaders, setRouteHeaders, setServedHeaders } from "../headers.ts";
import { readJsonBody } from "../json-body.ts";
import { paidRequest, resourceUrl } from "../paid-request.ts";
import { routeView } from "../route-view.ts";
import { sendJson } from "../send-json.ts";
import { sendChallenge, setReceipt } from "../x402-response.ts";

/** Candidates shown in a 402's route: enough to see the fallbacks, small enough to send every time. */
const CHALLENGE_CANDIDATES = 4;

/** POST /v1/chat/completions (paid) and POST /v1/route (the decision and quote, free). */
export function chatRoutes(deps: AppDeps): Record<string, DirectRoute> {
  // Limit headers may name any catalog model or provider: denying one this gateway does not offer is harmless.
  const everyModel = [...deps.catalog.list(), ...deps.catalog.withheldList()];
  const known = { models: everyModel.map((m) => m.id), providers: [...new Set(everyModel.map((m) => m.provider))] };
  const limitsOf = (req: IncomingMessage) => parseAgentLimits(req.headers, known);

  async function chatCompletions(req: IncomingMessage, res: ServerResponse, { admitPayer }: RouteLimits): Promise<void> {
    const body = await readJsonBody(req, deps.maxBodyBytes);
    const outcome = await runChat(deps, { ...paidRequest(req, res, admitPayer), body, limits: limitsOf(req) });

    if (outcome.kind === "payment_required") {
      setRouteHeaders(res, outcome.plan);
      res.setHeader("server-timing", outcome.timer.header());
      sendChallenge(res, outcome.challenge, { route: routeView(outcome.plan, deps.terms, CHALLENGE_CANDIDATES) });
      return;
    }

    setServedHeaders(res, outcome.meta);
    if (outcome.kind === "completed") {
      setCostHeaders(res, outcome.cost);
      if (outcome.settlement !== undefined) {
        setReceipt(res, outcome.paid.version, outcome.settlement);
      }
      sendJson(res, 200, outcome.body);
      return;
    }

    res.statusCode = 200;
    res.setHeader("content-type", "text/event-stream; charset=utf-8");
    res.setHeader("cache-control", "no-cache");
    res.setHeader("x-accel-buffering", "no");
    res.flushHeaders();
    await outcome.pipe(responseSink(res));
    res.end();
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJsonBody(req, deps.maxBodyBytes);
    const plan = planCall(deps, body, resourceUrl(req), {
      ...routingSettings(deps),
      health: deps.health.snapshot(deps.now()),
      limits: limitsOf(req),
    });
    setRouteHeaders(res, plan);
    sendJson(res, 200, routeView(plan, deps.terms));
  }

  return { "/v1/chat/completions": chatCompletions, "/v1/route": route };
}

/**
 * A paid stream's sink over the response: a piece counts as written once the socket took it;
 * under backpressure it waits for `drain`, and a closed connection answers false from then on.
 */
function responseSink(res: ServerResponse): StreamSink {
  return {
    write(piece) {
      if (res.destroyed || res.writableEnded) return Promise.resolve(false);
      if (res.write(piece)) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const done = () => {
          res.off("drain", done);
          res.off("close", done);
          resolve(!res.destroyed);
        };
        res.once("drain", done);
        res.once("close", done);
      });
    },
  };
}
