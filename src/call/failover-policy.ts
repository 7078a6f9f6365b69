/**
 * What to do after an upstream attempt failed before its first byte reached the agent. One pure
 * predicate so the policy is visible in one place; execute.ts applies it.
 *   - "retry_after": wait the upstream's Retry-After and try the same model again, if that fits
 *     the call's deadline; otherwise move on.
 *   - "next": try the next candidate.
 *   - "stop": the request itself is at fault; another provider would refuse it too.
 */
export type FailoverAction = "retry_after" | "next" | "stop";

export function failoverAction(status: number | undefined, retryAfterMs: number | undefined): FailoverAction {
  if (status === undefined) return "next"; // connection refused or reset, timeout, untranslatable request
  switch (status) {
    case 400: // malformed for the upstream: our translation or the agent's fields; same body fails elsewhere
    case 413: // payload too large: the prompt is the problem
    case 422: // unprocessable: the request's content is refused as such
      return "stop";
    case 401: // our key for this provider is wrong or revoked: an operator fault, not the agent's
    case 403: // key lacks access to this model or region
    case 404: // model retired or renamed at this provider
      return "next";
    case 408: // upstream timed out reading the request
    case 409: // conflict (OpenAI uses it for transient engine state)
    case 425: // too early
      return "next";
    case 429: // rate limited: honour Retry-After when it fits the deadline, else fail over
      return retryAfterMs === undefined ? "next" : "retry_after";
    default:
      // 5xx, Anthropic's 529 overloaded, Cloudflare 52x: transient at this provider.
      if (status >= 500) return "next";
      // Any other 4xx is a client error we have no specific knowledge of: do not spray it around.
      return "stop";
  }
}
