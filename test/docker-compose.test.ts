import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";

/** No docker engine runs here, so this checks what can be checked: every path the file names exists. */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const Compose = z.object({
  services: z.record(
    z.string(),
    z.object({
      build: z.object({ context: z.string(), dockerfile: z.string() }).optional(),
      image: z.string().optional(),
      command: z.array(z.string()).optional(),
      environment: z.record(z.string(), z.string()).optional(),
    }),
  ),
});
const compose = Compose.parse(parse(readFileSync(join(root, "docker-compose.yml"), "utf8")));
const packageScripts = z.object({ scripts: z.record(z.string(), z.string()) }).parse(JSON.parse(readFileSync(join(root, "package.json"), "utf8"))).scripts;

describe("docker-compose.yml", () => {
  it("has the gateway, the devnet chain and a Postgres placeholder", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["chain", "gateway", "postgres"]);
  });

  for (const [name, service] of Object.entries(compose.services)) {
    it(`service ${name} builds from an existing context and runs files that exist`, () => {
      expect(service.build !== undefined || service.image !== undefined).toBe(true);
      if (service.build === undefined) return;
      const context = join(root, service.build.context);
      expect(existsSync(context)).toBe(true);
      expect(existsSync(join(context, service.build.dockerfile))).toBe(true);
      const command = service.command ?? [];
      if (command[0] === "npm") {
        // `npm start` / `npm run <script>`: the script must exist.
        const script = command[1] === "run" ? command[2] : command[1];
        expect(Object.keys(packageScripts)).toContain(script);
        return;
      }
      const files = command.filter((arg) => /\.(c?js|m?ts)$|\//.test(arg));
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) expect(existsSync(join(context, file)), `${name}: ${file}`).toBe(true);
    });
  }

  it("points the gateway at the chain service", () => {
    expect(compose.services["gateway"]?.environment?.["DEVNET_RPC_URL"]).toBe("http://chain:8545");
  });
});
