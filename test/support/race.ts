/**
 * For races whose winners wait on a held upstream: resolves, with how many requests have been
 * answered, once every request is either answered or waiting at the upstream (`held()` counts
 * those). Polls, so it holds whatever the machine's load; fails after a minute.
 */
export async function allSettledButHeld(requests: ReadonlyArray<Promise<unknown>>, expectedAnswered: number, held: () => number): Promise<number> {
  let answered = 0;
  for (const request of requests) void request.then(() => (answered += 1), () => (answered += 1));
  const deadline = Date.now() + 60_000;
  while (answered + held() < requests.length || answered < expectedAnswered) {
    if (Date.now() > deadline) throw new Error(`after a minute ${answered} of ${requests.length} requests answered and ${held()} wait upstream`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return answered;
}
