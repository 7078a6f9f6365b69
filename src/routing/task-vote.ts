import { TASK_FEATURES, type TaskFeature } from "./task-features.ts";
import { TASKS, type Task } from "./types.ts";

/**
 * The hand-weighted vote: the general features of task-features.ts, each voting for the labels
 * it names. It was the classifier until the learned model (task.ts) replaced it; its per-label
 * scores are now among the model's inputs (task-vector.ts), since they carry priors a few
 * hundred labelled prompts cannot teach (language names, equation shapes, code syntax), and
 * the eval script keeps it as the baseline the model is measured against.
 *
 * The latest user turn dominates; the system prompt and recent history add smaller votes, so
 * "You are a translator" or a code block two turns back tilts a terse follow-up. Below
 * MIN_SCORE nothing asked for a task, which is what `chat` means.
 */

export interface TaskInput {
  /** The latest user turn's text. */
  latest: string;
  /** System and developer messages, joined. */
  system: string;
  /** Earlier turns, oldest first. */
  history: ReadonlyArray<{ role: "user" | "assistant"; text: string }>;
}

export interface TaskGuess {
  task: Task;
  /** Each label's score; what a score means depends on the classifier that made the guess. */
  scores: Record<Task, number>;
  /** The features that counted most for the winning label, strongest first. */
  features: string[];
}

/** Votes below this are too weak to name a task: the request is conversation. */
export const MIN_SCORE = 1.5;

const WEIGHT = { latest: 1, system: 0.75, user: 0.3, assistant: 0.2 } as const;
/**
 * Weight of the latest turn's payload (the lines between its first and last line): in "Sort
 * these questions into categories:\n1. Discuss...\n2. Explain..." the questions are material,
 * and their wording must not outvote the instruction that frames them.
 */
const PAYLOAD_WEIGHT = 0.35;
/** A last line this short reads as an instruction after a passage ("Translate the above."). */
const TRAILING_INSTRUCTION_CHARS = 300;
/** A last line that is a list item, a quote, a table row or a fence is more material, not an instruction. */
const MATERIAL_LINE = /^\s*(?:\d+[.)]|[a-z][.)]\s|[-*•>|"'“]|```)/i;
/** Only the last few earlier turns inform the guess; older ones are a different topic as often as not. */
export const HISTORY_TURNS = 4;

/**
 * The instruction of a long prompt sits at its head ("Summarise the following: ...") or its
 * tail ("... Translate the above into French"), so the features read those windows only. The
 * classifier then costs the same for a 200-token and a 20,000-token prompt.
 */
const HEAD_CHARS = 1_500;
const TAIL_CHARS = 500;

/** Tie order: the more specific label wins a tie. */
const TIE_ORDER: readonly Task[] = ["translation", "summarization", "classification", "extraction", "code", "math", "reasoning", "creative", "qa", "chat"];

type Evidence = Map<Task, Array<{ id: string; weight: number }>>;

export function voteTask(input: TaskInput): TaskGuess {
  const scores = emptyScores();
  const evidence: Evidence = new Map();
  castVotes(input, (id, votes, factor) => {
    for (const [label, weight] of Object.entries(votes) as Array<[Task, number]>) {
      const added = weight * factor;
      scores[label] += added;
      const list = evidence.get(label) ?? [];
      list.push({ id, weight: added });
      evidence.set(label, list);
    }
  });

  let task: Task = "chat";
  let best = 0;
  for (const label of TIE_ORDER) {
    if (scores[label] > best) {
      best = scores[label];
      task = label;
    }
  }
  if (best < MIN_SCORE) task = "chat";
  const features = (evidence.get(task) ?? [])
    .sort((a, b) => b.weight - a.weight)
    .map((e) => e.id)
    .filter((id, i, all) => all.indexOf(id) === i);
  return { task, scores, features };
}

/** Calls `hit` once for every feature that fires in a part of the conversation, with that part's weight times the hit count. */
export function castVotes(input: TaskInput, hit: (id: string, votes: TaskFeature["votes"], factor: number) => void): void {
  const { instruction, payload } = splitInstruction(input.latest);
  vote(instruction, WEIGHT.latest, hit);
  vote(payload, WEIGHT.latest * PAYLOAD_WEIGHT, hit);
  // A fence anywhere in the latest turn is structure, not wording: it counts in full.
  if (!instruction.includes("```") && payload.includes("```")) hit("code_fence", { code: 2 * (1 - PAYLOAD_WEIGHT) }, 1);
  if (input.system !== "") vote(input.system, WEIGHT.system, hit);
  for (const turn of input.history.slice(-HISTORY_TURNS)) vote(turn.text, WEIGHT[turn.role], hit);
}

export function emptyScores(): Record<Task, number> {
  const scores = {} as Record<Task, number>;
  for (const task of TASKS) scores[task] = 0;
  return scores;
}

/**
 * The first line states the task and the last line may restate it; what lies between is the
 * material the task works on. A one- or two-line prompt is all instruction.
 */
export function splitInstruction(text: string): { instruction: string; payload: string } {
  const trimmed = text.trim();
  const first = trimmed.indexOf("\n");
  const last = trimmed.lastIndexOf("\n");
  if (first < 0 || first === last) return { instruction: trimmed, payload: "" };
  const head = trimmed.slice(0, first);
  const tail = trimmed.slice(last + 1);
  const body = trimmed.slice(first + 1, last);
  if (tail.length > TRAILING_INSTRUCTION_CHARS || MATERIAL_LINE.test(tail)) return { instruction: head, payload: `${body}\n${tail}` };
  return { instruction: `${head}\n${tail}`, payload: body };
}

/** The head and tail of a long text, lower-cased: where instructions sit. */
export function windowOf(text: string): string {
  const trimmed = text.trim();
  if (trimmed.length <= HEAD_CHARS + TAIL_CHARS) return trimmed.toLowerCase();
  return `${trimmed.slice(0, HEAD_CHARS)}\n${trimmed.slice(-TAIL_CHARS)}`.toLowerCase();
}

function vote(text: string, turnWeight: number, hit: (id: string, votes: TaskFeature["votes"], factor: number) => void): void {
  if (text === "") return;
  const window = windowOf(text);
  for (const feature of TASK_FEATURES) {
    // A fence anywhere in a long turn is structure, not wording: look for it in the whole text.
    const hits = feature.id === "code_fence" ? (text.includes("```") ? 1 : 0) : hitsOf(feature, window);
    if (hits > 0) hit(feature.id, feature.votes, hits * turnWeight);
  }
}

function hitsOf(feature: TaskFeature, text: string): number {
  if (feature.requires !== undefined && !feature.requires.test(text)) return 0;
  if (feature.cap === undefined) return feature.pattern.test(text) ? 1 : 0;
  const seen = new Set<string>();
  for (const match of text.matchAll(feature.pattern)) {
    seen.add(match[0]);
    if (seen.size >= feature.cap) break;
  }
  return seen.size;
}
