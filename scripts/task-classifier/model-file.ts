import type { TaskModel } from "../../src/routing/task.ts";

/** The model as JSON with one feature and one weight row per line, so a retrain reads as a diff. */
export function modelFileText(model: TaskModel): string {
  const width = model.labels.length;
  const { features, weights, ...header } = model;
  const rows = features.map((_, i) => JSON.stringify(weights.slice(i * width, (i + 1) * width)));
  const head = JSON.stringify(header, null, 2).slice(0, -2);
  return `${head},\n  "features": [\n${features.map((f) => `    ${JSON.stringify(f)}`).join(",\n")}\n  ],\n  "weights": [\n${rows.map((r) => `    ${r.slice(1, -1)}`).join(",\n")}\n  ]\n}\n`;
}
