/**
 * The bench upstream (`fake-upstream.ts`) as a process of its own, so that compare.ts can read its
 * CPU time and RSS from /proc like the gateways', and so that its event loop never shares a core
 * slot with the harness's time-to-first-byte client.
 *
 *   node --import tsx bench/upstream-main.ts --port 18401 [--delay-ms 0]
 */
import { parseArgs } from "node:util";
import { startBenchUpstream } from "./fake-upstream.ts";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" }, "delay-ms": { type: "string", default: "0" } } });
const upstream = await startBenchUpstream({ port: Number(values.port), delayMs: Number(values["delay-ms"]) });
process.stdout.write(`bench upstream listening at ${upstream.url}\n`);
const stop = () => {
  upstream.server.close(() => process.exit(0));
  // Gateways keep pooled keep-alive sockets open; they must not hold the exit up.
  upstream.server.closeAllConnections();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
