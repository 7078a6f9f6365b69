/** One closed-loop load phase: `connections` keep-alive connections, each sending the next request as soon as the last one is answered. */
export interface LoadSpec {
  url: string;
  headers: Readonly<Record<string, string>>;
  body: string;
  connections: number;
  durationSeconds: number;
  /** The status every answer should have (402 for Tollgate without payment). */
  expectStatus: number;
}

export interface LoadResult {
  tool: "wrk" | "autocannon";
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number; mean: number; max: number };
  /** Answers whose status class differs from the expected one (2xx/3xx versus not). */
  unexpectedStatus: number;
  /** Connect, read, write and timeout errors. */
  socketErrors: number;
}

export interface LoadDriver {
  tool: LoadResult["tool"];
  /** Aborting `signal` kills the load generator (Ctrl-C mid-phase). */
  run(spec: LoadSpec, signal: AbortSignal): Promise<LoadResult>;
}
