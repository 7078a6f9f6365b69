/**
 * An incremental Server-Sent Events reader that only cares about `data` fields: bytes go in
 * in whatever pieces the socket delivers, and each complete event's data comes out. It never
 * holds more than one unfinished line and one unfinished event, so it can watch a stream on
 * the side while the bytes themselves are passed on untouched.
 *
 * Follows the WHATWG HTML "Server-sent events" parsing rules: lines end in CRLF, LF or CR; a
 * blank line dispatches the event; multiple `data:` lines join with "\n"; one space after the
 * colon is dropped; comment lines (starting with ":") and other fields are ignored.
 */
export interface SseDataReader {
  push(chunk: Uint8Array): void;
  /** Flush a final event that was not followed by a blank line. */
  end(): void;
}

export function createSseDataReader(onData: (data: string) => void): SseDataReader {
  const decoder = new TextDecoder("utf-8");
  let pending = "";
  let data: string[] = [];
  let lastWasCR = false;

  function dispatch(): void {
    if (data.length === 0) return;
    const joined = data.join("\n");
    data = [];
    onData(joined);
  }

  function line(text: string): void {
    if (text === "") return dispatch();
    if (text.startsWith(":")) return;
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    if (field !== "data") return;
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    data.push(value);
  }

  function feed(text: string): void {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch === 0x0a && lastWasCR && i === start && pending === "") {
        // The LF of a CRLF split across two pushes: the line already ended at the CR.
        start = i + 1;
        lastWasCR = false;
        continue;
      }
      lastWasCR = false;
      if (ch !== 0x0a && ch !== 0x0d) continue;
      line(pending + text.slice(start, i));
      pending = "";
      if (ch === 0x0d) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 0x0a) i++;
        } else {
          lastWasCR = true;
        }
      }
      start = i + 1;
    }
    pending += text.slice(start);
  }

  return {
    push(chunk) {
      feed(decoder.decode(chunk, { stream: true }));
    },
    end() {
      feed(decoder.decode());
      if (pending !== "") line(pending);
      pending = "";
      dispatch();
    },
  };
}
