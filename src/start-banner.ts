/** Where the example agent (examples/agent.ts) looks for the gateway unless TOLLGATE_URL says otherwise. */
export const AGENT_DEFAULT_URL = "http://127.0.0.1:8402";

/** The command that runs the example agent against the gateway at `url`, ready to paste. */
export function agentCommand(url: string, prompt = "Write a haiku about tolls"): string {
  return `${url === AGENT_DEFAULT_URL ? "" : `TOLLGATE_URL=${url} `}npm run agent -- "${prompt}"`;
}

/** What a devnet gateway prints on stdout once it listens. */
export function startBanner(url: string): string {
  return `\nTollgate is up at ${url}  (devnet, chainId 84532)\n  try: ${agentCommand(url)}\n\n`;
}
