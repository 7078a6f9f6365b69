/** Stage durations from a W3C Server-Timing header (`plan;dur=0.41, local_verify;dur=3.20, ...`), ms. */
export function parseServerTiming(header: string | undefined): Record<string, number> {
  const stages: Record<string, number> = {};
  for (const part of (header ?? "").split(",")) {
    const match = /^\s*([\w-]+);dur=([\d.]+)/.exec(part);
    if (match?.[1] !== undefined && match[2] !== undefined) stages[match[1]] = (stages[match[1]] ?? 0) + Number(match[2]);
  }
  return stages;
}
