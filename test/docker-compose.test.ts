import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";

/**
 * No docker engine runs here, so this checks what can be checked without one: the file's shape
 * (healthchecks, start order, PID 1, user, replicas, the proxy's upstreams), that every path it
 * names exists, and the healthcheck script itself against a real devnet and gateway.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const Healthcheck = z.object({ test: z.array(z.string()).min(2), interval: z.string(), timeout: z.string(), retries: z.number().int().positive() });
const Service = z.object({
  build: z.object({ context: z.string(), dockerfile: z.string() }).optional(),
  image: z.string().optional(),
  init: z.boolean().optional(),
  command: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.string()).optional(),
  ports: z.array(z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  healthcheck: Healthcheck.optional(),
  depends_on: z.record(z.string(), z.object({ condition: z.string() })).optional(),
});
const Compose = z.object({ services: z.record(z.string(), Service) });
// `merge`: the gateways share one definition through a YAML merge key (`<<: *gateway`).
const compose = Compose.parse(parse(readFileSync(join(root, "docker-compose.yml"), "utf8"), { merge: true }));
const services = compose.services;
const packageScripts = z.object({ scripts: z.record(z.string(), z.string()) }).parse(JSON.parse(readFileSync(join(root, "package.json"), "utf8"))).scripts;
const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
const nginxConf = readFileSync(join(root, "docker/nginx.conf"), "utf8");
const GATEWAYS = ["gateway-1", "gateway-2"];

function service(name: string): z.infer<typeof Service> {
  const found = services[name];
  if (found === undefined) throw new Error(`no service ${name}`);
  return found;
}

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, " ")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line.length > 0 && !line.startsWith("#"));

describe("docker-compose.yml", () => {
  it("has the chain, Postgres, Redis, two gateway replicas and the proxy in front of them", () => {
    expect(Object.keys(services).sort()).toEqual(["chain", "gateway-1", "gateway-2", "postgres", "proxy", "redis"]);
  });

  for (const [name, svc] of Object.entries(services)) {
    it(`service ${name} builds from an existing context or names an image, and runs files that exist`, () => {
      expect(svc.build !== undefined || svc.image !== undefined).toBe(true);
      if (svc.build === undefined) return;
      const context = join(root, svc.build.context);
      expect(existsSync(join(context, svc.build.dockerfile))).toBe(true);
      const files = (svc.command ?? []).filter((arg) => /\.(c?js|m?ts)$/.test(arg));
      expect(files.length).toBeGreaterThan(0);
      // dist/ is the bundle the image builds (checked below); everything else is in the repo.
      for (const file of files.filter((f) => !f.startsWith("dist/"))) expect(existsSync(join(context, file)), `${name}: ${file}`).toBe(true);
      for (const file of (svc.healthcheck?.test ?? []).filter((arg) => arg.endsWith(".mjs"))) expect(existsSync(join(context, file)), `${name}: ${file}`).toBe(true);
    });

    it(`service ${name} has a healthcheck and waits for every service it needs to be healthy`, () => {
      expect(svc.healthcheck, name).toBeDefined();
      for (const [needed, { condition }] of Object.entries(svc.depends_on ?? {})) {
        expect(condition, `${name} -> ${needed}`).toBe("service_healthy");
        expect(service(needed).healthcheck, needed).toBeDefined();
      }
    });
  }

  it("checks each dependency by what it serves: eth_chainId 84532, pg_isready, a Redis PONG, the gateway's /readyz", () => {
    expect(service("chain").healthcheck?.test).toEqual(["CMD", "node", "docker/healthcheck.mjs", "chain", "http://127.0.0.1:8545", "84532"]);
    expect(service("chain").command).toContain("8545");
    expect(service("postgres").healthcheck?.test.slice(0, 2)).toEqual(["CMD", "pg_isready"]);
    const postgresEnv = service("postgres").environment ?? {};
    expect(service("postgres").healthcheck?.test.join(" ")).toContain(`-U ${postgresEnv["POSTGRES_USER"]} -d ${postgresEnv["POSTGRES_DB"]}`);
    expect(service("redis").healthcheck?.test.join(" ")).toMatch(/redis-cli ping.*PONG/);
    for (const name of GATEWAYS) {
      const port = service(name).environment?.["PORT"];
      expect(service(name).healthcheck?.test).toEqual(["CMD", "node", "docker/healthcheck.mjs", "ready", `http://127.0.0.1:${port}/readyz`]);
    }
    expect(service("proxy").healthcheck?.test.join(" ")).toContain("/readyz");
  });

  it("starts the gateways only after the chain, Postgres and Redis are healthy, and the second after the first", () => {
    for (const name of GATEWAYS) expect(Object.keys(service(name).depends_on ?? {})).toEqual(expect.arrayContaining(["chain", "postgres", "redis"]));
    expect(Object.keys(service("gateway-2").depends_on ?? {})).toContain("gateway-1");
    expect(Object.keys(service("proxy").depends_on ?? {}).sort()).toEqual(GATEWAYS);
  });

  it("runs node itself under an init as PID 1, so SIGTERM reaches it and it drains", () => {
    // `npm start`'s node command, minus its build step.
    const start = packageScripts["start"]?.split("&&").map((s) => s.trim());
    expect(start?.[0]).toBe("npm run build");
    for (const name of [...GATEWAYS, "chain"]) {
      expect(service(name).init, name).toBe(true);
      expect(service(name).command?.[0], name).toBe("node");
    }
    for (const name of GATEWAYS) expect(service(name).command?.join(" ")).toBe(start?.[1]);
    expect(instructions.at(-1)).toMatch(/^CMD \["node",/);
  });

  it("builds the bundle into the image and runs as the image's unprivileged user", () => {
    const build = instructions.findIndex((line) => /^RUN .*npm run build/.test(line));
    const user = instructions.findIndex((line) => line.startsWith("USER "));
    expect(build).toBeGreaterThan(instructions.findIndex((line) => /^COPY .* \. \.$|^COPY \. \.$/.test(line)));
    expect(user).toBeGreaterThan(build);
    expect(instructions[user]).toMatch(/^USER (?!root\b|0\b)\S+$/);
    expect(readFileSync(join(root, "scripts/build.mjs"), "utf8")).toContain('join(out, "main.js")');
  });

  it("runs both gateways on the one chain and Postgres ledger with one QUOTE_SECRET", () => {
    const [first, second] = GATEWAYS.map((name) => service(name).environment ?? {});
    expect(first).toEqual(second);
    expect(first?.["DEVNET_RPC_URL"]).toBe("http://chain:8545");
    expect(first?.["DATABASE_URL"]).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
    // Required, not defaulted per replica: `${QUOTE_SECRET:?...}` stops compose with a message when unset.
    expect(first?.["QUOTE_SECRET"]).toMatch(/^\$\{QUOTE_SECRET:\?.+\}$/);
  });

  it("publishes one port, the proxy's, which balances over both replicas", () => {
    const published = Object.entries(services).filter(([, svc]) => (svc.ports ?? []).some((p) => p.endsWith(":8402") || p.includes(":8402:")));
    expect(published.map(([name]) => name)).toEqual(["proxy"]);
    const [, containerPort] = /:8402:(\d+)$/.exec(service("proxy").ports?.[0] ?? "") ?? [];
    expect(nginxConf).toMatch(new RegExp(`listen ${containerPort};`));
    const upstreams = [...nginxConf.matchAll(/^\s*server (\S+):(\d+);/gm)].map((m) => `${m[1]}:${m[2]}`);
    expect(upstreams).toEqual(GATEWAYS.map((name) => `${name}:${service(name).environment?.["PORT"]}`));
    const mount = service("proxy").volumes?.[0]?.split(":")[0] ?? "";
    expect(existsSync(join(root, mount))).toBe(true);
    // A paid POST is never replayed on the other replica, and streams are not buffered.
    expect(nginxConf).toMatch(/^\s*proxy_next_upstream (?!.*non_idempotent).*;$/m);
    expect(nginxConf).toMatch(/proxy_buffering off;/);
  });
});

describe("docker/healthcheck.mjs", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(async () => {
    await gateway?.close();
  });

  function probe(...args: string[]): Promise<{ code: number; stderr: string }> {
    return new Promise((done) => {
      execFile(process.execPath, [join(root, "docker/healthcheck.mjs"), ...args], { timeout: 10_000 }, (error, _stdout, stderr) => {
        done({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stderr });
      });
    });
  }

  it("passes a node answering the expected chain id and fails one answering another, or nothing", async () => {
    expect(await probe("chain", gateway.dev.info.rpcUrl, "84532")).toEqual({ code: 0, stderr: "" });
    const wrong = await probe("chain", gateway.dev.info.rpcUrl, "1");
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("expected 1");
    expect((await probe("chain", "http://127.0.0.1:9", "84532")).code).toBe(1);
  });

  it("passes a ready gateway and fails one that is draining", async () => {
    expect((await probe("ready", `${gateway.url}/readyz`)).code).toBe(0);
    gateway.runtime.setReady(false);
    try {
      const draining = await probe("ready", `${gateway.url}/readyz`);
      expect(draining.code).toBe(1);
      expect(draining.stderr).toContain("status 503");
    } finally {
      gateway.runtime.setReady(true);
    }
  });

  it("refuses a malformed invocation with a usage line", async () => {
    const usage = await probe("chain", gateway.dev.info.rpcUrl);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("usage:");
  });
});
