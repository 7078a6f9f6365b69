import { createSseDataReader } from "../providers/sse.ts";

/**
 * Watches a chat.completion.chunk stream for the first event that carries generated content: a
 * delta with anything besides its `role` that is not empty (text, a refusal, tool or function
 * calls, reasoning, audio). The opening `{"role":"assistant","content":""}` delta, a bare
 * `finish_reason`, the usage chunk, error events and `[DONE]` carry none. It is the line between
 * "nothing was delivered" and "the call was served" for a stream the agent abandons
 * (README, "Streams").
 */
export interface FirstContentWatch {
  /** Feeds the next piece; true once the pieces so far hold an event with content (sticky). */
  sees(piece: Uint8Array | string): boolean;
}

export function createFirstContentWatch(): FirstContentWatch {
  let found = false;
  const encoder = new TextEncoder();
  const reader = createSseDataReader((data) => {
    if (!found && carriesContent(data)) found = true;
  });
  return {
    sees(piece) {
      // Once found, nothing more is parsed: the watch costs only the stream's first events.
      if (!found) reader.push(typeof piece === "string" ? encoder.encode(piece) : piece);
      return found;
    },
  };
}

function carriesContent(data: string): boolean {
  if (data === "[DONE]") return false;
  let event: unknown;
  try {
    event = JSON.parse(data);
  } catch {
    return false;
  }
  const choices = isRecord(event) && Array.isArray(event["choices"]) ? event["choices"] : [];
  for (const choice of choices) {
    const delta = isRecord(choice) ? choice["delta"] : undefined;
    if (!isRecord(delta)) continue;
    for (const [key, value] of Object.entries(delta)) {
      if (key !== "role" && !isEmpty(value)) return true;
    }
  }
  return false;
}

function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined || value === "") return true;
  if (Array.isArray(value)) return value.length === 0;
  return false;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
