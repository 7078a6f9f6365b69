import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readmeSample } from "../scripts/readme-sample.ts";
import { AGENT_DEFAULT_URL, agentCommand, startBanner } from "../src/start-banner.ts";

/** Issue 17, item 4: the README's sample session is what a fresh start prints, and the banner's command works. */

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const session = readme.slice(readme.indexOf("## A short session"), readme.indexOf("## Use it from your agent"));
const consoleBlocks = [...session.matchAll(/```console\n(.*?)\n```/gs)].map((m) => m[1] ?? "");
/** Transaction hashes are the one thing that differs between two fresh starts. */
const modHashes = (text: string) => text.replace(/0x[0-9a-f]{64}/g, "0x<transaction hash>");

describe("start banner", () => {
  it("prints the agent command for the port in use, with TOLLGATE_URL when it is not the agent's default", () => {
    expect(agentCommand(AGENT_DEFAULT_URL)).toBe('npm run agent -- "Write a haiku about tolls"');
    expect(agentCommand("http://127.0.0.1:9000")).toBe('TOLLGATE_URL=http://127.0.0.1:9000 npm run agent -- "Write a haiku about tolls"');
    expect(startBanner("http://127.0.0.1:9000")).toContain('  try: TOLLGATE_URL=http://127.0.0.1:9000 npm run agent -- "Write a haiku about tolls"\n');
  });
});

describe("README, A short session", () => {
  it("matches npm run readme:sample on a fresh start, whose agent ran the banner's command", { timeout: 400_000 }, async () => {
    const sample = await readmeSample();
    const url = /Tollgate is up at (http:\/\/127\.0\.0\.1:\d+)/.exec(sample.banner)?.[1];
    expect(url).toBeDefined();
    expect(sample.banner).toContain(`try: ${agentCommand(url ?? "")}`);
    expect(consoleBlocks).toHaveLength(2);
    expect(modHashes(consoleBlocks[0] ?? "")).toBe(modHashes(sample.challenge));
    expect(modHashes(consoleBlocks[1] ?? "")).toBe(modHashes(sample.agent));
    expect(sample.agent).toMatch(/settlement: {2}0x[0-9a-f]{64} on eip155:84532/);
  });
});
