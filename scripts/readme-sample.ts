/**
 * Prints the README's "A short session" console blocks from a fresh start: it starts the gateway
 * as `npm start` does (src/main.ts, zero config, a free port, a new data dir), sends the README's
 * curl request, runs the agent command the start banner prints, and writes both blocks. Only
 * transaction hashes differ from run to run. `npm run readme:sample`; test/readme-sample.test.ts
 * compares the README with it.
 *
 *   npm run readme:sample            # both blocks, separated by a line "--"
 */
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ENV_VARS } from "../src/config.ts";
import { AGENT_DEFAULT_URL } from "../src/start-banner.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PROMPT = "Write a haiku about tolls";

export interface ReadmeSample {
  /** What the gateway printed on start, with the port it got. */
  banner: string;
  /** The curl block: command, status, routing headers, the 402 body in short. */
  challenge: string;
  /** The agent block: the banner's command (at the default URL) and its output. */
  agent: string;
}

/** The environment of a zero-config start: nothing of Tollgate's or the agent's from the caller. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (ENV_VARS.includes(name) || name.startsWith("AGENT_") || name === "TOLLGATE_URL") delete env[name];
  return { ...env, ...extra };
}

const short = (hex: string) => `${hex.slice(0, 6)}...${hex.slice(-4)}`;

/** The 402 as `curl -si` shows it, cut to what the README shows. */
async function challengeBlock(url: string): Promise<string> {
  const body = JSON.stringify({ model: "auto", messages: [{ role: "user", content: PROMPT }] });
  const res = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const json = (await res.json()) as {
    error: string;
    accepts: Array<{ scheme: string; network: string; maxAmountRequired: string; payTo: string; asset: string; extra: { name: string; version: string; quote: string } }>;
    route: { model: string; strategy: string; task: string; price: { amount: string; usd: string } };
  };
  const offer = json.accepts[0];
  if (res.status !== 402 || offer === undefined) throw new Error(`expected a 402 with a v1 offer, got ${res.status}`);
  const header = (name: string) => `${name}: ${res.headers.get(name) ?? ""}`;
  const { route } = json;
  return [
    `$ curl -si ${AGENT_DEFAULT_URL}/v1/chat/completions -H 'content-type: application/json' \\`,
    `    -d '${body}'`,
    `HTTP/1.1 ${res.status} ${res.statusText}`,
    header("x-tollgate-strategy"),
    header("x-tollgate-task"),
    header("x-tollgate-model"),
    header("x-tollgate-price"),
    `PAYMENT-REQUIRED: ${(res.headers.get("payment-required") ?? "").slice(0, 24)}...`,
    "",
    `{"x402Version":1,`,
    ` "error":${JSON.stringify(json.error)},`,
    ` "accepts":[{"scheme":"${offer.scheme}","network":"${offer.network}","maxAmountRequired":"${offer.maxAmountRequired}","payTo":"${short(offer.payTo)}","asset":"${short(offer.asset)}",`,
    `  "extra":{"name":"${offer.extra.name}","version":"${offer.extra.version}","quote":"${offer.extra.quote.slice(0, 8)}..."},...}],`,
    ` "route":{"model":"${route.model}","strategy":"${route.strategy}","task":"${route.task}","price":{"amount":"${route.price.amount}","usd":"${route.price.usd}",...},...}}`,
  ].join("\n");
}

/** Starts src/main.ts and resolves with its banner once it has printed it. */
async function startGateway(dataDir: string): Promise<{ banner: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], { cwd: ROOT, env: cleanEnv({ PORT: "0", DATA_DIR: dataDir, LOG_LEVEL: "silent" }), stdio: ["ignore", "pipe", "inherit"] });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await exited;
  };
  let out = "";
  for await (const chunk of child.stdout) {
    out += String(chunk);
    if (/try: .*\n\n/.test(out)) return { banner: out, stop };
  }
  await stop();
  throw new Error(`the gateway exited before its banner (exit code ${child.exitCode}): ${out}`);
}

export async function readmeSample(): Promise<ReadmeSample> {
  const dataDir = mkdtempSync(join(tmpdir(), "tollgate-readme-"));
  const gateway = await startGateway(dataDir).catch((error: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  try {
    const url = /Tollgate is up at (\S+)/.exec(gateway.banner)?.[1];
    const command = /try: (.*)\n/.exec(gateway.banner)?.[1];
    if (url === undefined || command === undefined) throw new Error(`unexpected banner: ${gateway.banner}`);
    const challenge = await challengeBlock(url);
    // The banner's own command, as a user pastes it; npm's echo of the script is silenced.
    const { stdout } = await promisify(execFile)("sh", ["-c", command], { cwd: ROOT, env: cleanEnv({ npm_config_loglevel: "silent" }), timeout: 180_000 });
    const shown = command.replace(/^TOLLGATE_URL=\S+ /, "");
    const agent = [
      `$ ${shown}`,
      stdout.trimEnd(),
      "",
      `$ npm run agent -- --stream "Explain x402 in two sentences"`,
      `$ npm run agent -- --exact "Hello"        # pay the quote with exact instead of upto`,
    ].join("\n");
    return { banner: gateway.banner, challenge, agent };
  } finally {
    await gateway.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const sample = await readmeSample();
  process.stdout.write(`${sample.challenge}\n--\n${sample.agent}\n`);
}
