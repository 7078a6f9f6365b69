import type { Task } from "./types.ts";

/**
 * First-cut task guess from surface features of the latest user turn. Each rule names the
 * features that drive its label; the first rule whose score wins decides, `chat` otherwise.
 * The routing-engine issue replaces this with a scored classifier evaluated on held-out sets.
 */
const RULES: Array<{ task: Task; patterns: RegExp[] }> = [
  {
    task: "code",
    patterns: [
      /```/,
      /\b(function|class|def|return|import|const|let|var|public static|#include)\b.*[({;:]/,
      /\b(python|javascript|typescript|java|c\+\+|rust|golang|sql|regex|bash|html|css)\b/i,
      /\b(code|program|script|implement|debug|compile|refactor|algorithm|unit test|stack trace|bug)\b/i,
    ],
  },
  {
    task: "math",
    patterns: [
      /\b(solve|equation|integral|derivative|probability|calculate|compute|prove|theorem|polynomial|matrix)\b/i,
      /\d+\s*[-+*/^=]\s*\d+/,
      /\b(sum|product|area|volume|perimeter|average|mean|median)\s+of\b/i,
    ],
  },
  { task: "translation", patterns: [/\btranslat(e|ion)\b/i, /\b(into|to) (english|french|spanish|german|chinese|japanese|italian|portuguese|russian|korean|arabic)\b/i] },
  { task: "summarization", patterns: [/\b(summari[sz]e|summary|tl;?dr|condense|key points|in (one|a few|\d+) sentences?)\b/i] },
  { task: "extraction", patterns: [/\b(extract|parse|pull out|list all|identify (all|the)|return .*(json|csv|table)|from the (following|text|passage|document))\b/i] },
  { task: "classification", patterns: [/\b(classify|categori[sz]e|label|sentiment|which category|is this (spam|positive|negative))\b/i] },
  { task: "reasoning", patterns: [/\b(puzzle|riddle|logic|deduce|infer|step by step|why does|what follows|if .* then)\b/i] },
  { task: "creative", patterns: [/\b(write|compose|draft|poem|haiku|story|essay|blog|lyrics|slogan|imagine|pretend|role-?play|act as)\b/i] },
  { task: "qa", patterns: [/\?\s*$/, /^(what|who|when|where|which|how|why|explain|describe|define)\b/i] },
];

export function guessTask(latestUserText: string): Task {
  let best: { task: Task; score: number } = { task: "chat", score: 0 };
  for (const rule of RULES) {
    const score = rule.patterns.reduce((n, p) => n + (p.test(latestUserText) ? 1 : 0), 0);
    if (score > best.score) best = { task: rule.task, score };
  }
  return best.task;
}
