import type { FakeOpenAI } from "../fakes/openai-upstream.ts";

/**
 * Races whose winners wait on the upstream: starts the requests with the upstream holding its
 * answers, and releases it only once every request is either answered (the losers) or waiting
 * at the upstream (the winners), polling, so the split is the same whatever the machine's load.
 * Fails if `losers` requests do not answer within a minute. Returns every response, in order.
 */
export async function raceOnHeldUpstream(upstream: FakeOpenAI, start: () => Array<Promise<Response>>, losers: number, content: string): Promise<Response[]> {
  const before = upstream.requests.length;
  let release = () => {};
  upstream.setBehaviour({ holdFirstByte: new Promise<void>((resolve) => (release = resolve)) });
  try {
    const requests = start();
    let answered = 0;
    for (const request of requests) void request.then(() => (answered += 1), () => (answered += 1));
    const held = () => upstream.requests.length - before;
    const deadline = Date.now() + 60_000;
    while (answered + held() < requests.length || answered < losers) {
      if (Date.now() > deadline) throw new Error(`after a minute ${answered} of ${requests.length} requests answered and ${held()} wait upstream`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (answered !== losers) throw new Error(`${answered} requests answered before the upstream was released, not ${losers}`);
    release();
    return await Promise.all(requests);
  } finally {
    release();
    upstream.resetBehaviour({ content });
  }
}
