import type { Task } from "../../src/routing/types.ts";

/**
 * The public corpora the task classifier trains on, each pinned to a commit, and the table that
 * turns each source's own category into a Tollgate task. Nobody labels a prompt by hand: a
 * category missing from `labels` is left out whole (docs/task-data.md says why for each).
 */
export interface PublicSource {
  /** File name under data/routing-train: `pub-<name>.jsonl`. */
  name: string;
  repo: string;
  commit: string;
  licence: string;
  /**
   * Whether the licence lets a paid product train on it. Only these are committed and trained
   * on; the others are rebuilt locally and only measured (docs/task-data.md).
   */
  commercial: boolean;
  /** Source category -> task. */
  labels: Readonly<Record<string, Task>>;
  /** At most this many prompts per task, chosen by a hash of the prompt (deterministic, order-free). */
  perTask: number;
}

export const SOURCES = {
  /**
   * databricks-dolly-15k (the first release, 15,015 records), as kept in a public analysis
   * repository: the instructions of the first 6,400 records (`dolly_decode_bak/*.jsonl`, with
   * non-ASCII characters dropped and without the `context` passages) and, per category, the
   * outputs of eight T5 models in dataset order (`T5_piechart/d_google/<model>/<category>.csv`),
   * from which each record's category is recovered (build-task-data.ts#dollyCategories).
   */
  dolly: {
    name: "dolly",
    repo: "nayohan/dolly-15k-analysis",
    commit: "5797d87c90c8c13a8ec79897381991a280092945",
    licence: "CC BY-SA 3.0 (databricks-dolly-15k); the repository states no licence of its own",
    commercial: true,
    labels: {
      brainstorming: "creative",
      creative_writing: "creative",
      classification: "classification",
      open_qa: "qa",
      general_qa: "qa",
      // closed_qa, information_extraction and summarization are questions about a reference
      // passage (dolly's `context`), which this copy lacks: without it "Who is Thomas Jefferson?"
      // (information_extraction) reads as open qa, and leave-one-source-out scored the three at
      // 5-9% for summarization and extraction. They are left out until a copy with contexts is had.
    },
    perTask: 450,
  },
  /** GSM8K, the training split only (`train.jsonl`, 7,473 problems); `test.jsonl` is never read. */
  gsm8k: {
    name: "gsm8k",
    repo: "openai/grade-school-math",
    commit: "3101c7d5072418e28b9008a6636bde82a006892c",
    licence: "MIT",
    commercial: true,
    labels: { train: "math" },
    perTask: 450,
  },
  /**
   * MBPP (Mostly Basic Python Problems), the training split only: task ids 601-974 of `mbpp.jsonl`
   * (the dataset's README: 1-10 prompt, 11-510 test, 511-600 validation, 601-974 train). The
   * official copy sits in google-research/google-research, too large to fetch here; this
   * repository holds the same 974-line file byte for byte as published.
   */
  mbpp: {
    name: "mbpp",
    repo: "muitiiifruckt/ASE",
    commit: "83fa3f7963561b898623e8ade6e017d448ddca98",
    licence: "CC BY 4.0 (MBPP, google-research/google-research mbpp/README.md)",
    commercial: true,
    labels: { train: "code" },
    perTask: 450,
  },
  /** MOSS's published user prompts (Chinese and English), one file per category. */
  moss: {
    name: "moss",
    repo: "OpenLMLab/MOSS",
    commit: "c810e0b428bb209522dcde12f58daa318cf83027",
    licence: "CC BY-NC 4.0 (DATA_LICENSE; code Apache-2.0)",
    commercial: false,
    labels: { writing: "creative", role_playing: "creative", brainstorming: "creative", code: "code" },
    perTask: 450,
  },
  /** Code Alpaca, the 2,000-record file (`data/code_alpaca_2k.json`): every record is a coding request. */
  codealpaca: {
    name: "codealpaca",
    repo: "sahil280114/codealpaca",
    commit: "2f78ddc5c682ed6738ad092bbbfa59ba915afcb0",
    licence: "CC BY-NC 4.0 (DATA_LICENSE; code Apache-2.0)",
    commercial: false,
    labels: { code: "code" },
    perTask: 450,
  },
  /** InstructionWild v2, `user_1.jsonl`: instructions people posted on Twitter, each with an `instruction_type`. */
  instructwild: {
    name: "instructwild",
    repo: "XueFuzhao/InstructionWild",
    commit: "047fa6b9abd4a0b2d5ed6f0f9bbc14df5bd6b1d6",
    licence: "non-commercial research only (LICENSE)",
    commercial: false,
    labels: {
      "Open QA": "qa",
      "Closed QA": "qa",
      Chat: "chat",
      Brainstorming: "creative",
      Rewrite: "creative",
      Summarization: "summarization",
      Classification: "classification",
    },
    perTask: 450,
  },
} as const satisfies Record<string, PublicSource>;
