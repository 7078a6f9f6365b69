import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { dataHash, EVAL_SETS, type LabelledPrompt, readEvalSets, readSet, trainingFiles, trainingPrompts } from "../scripts/task-classifier/labelled.ts";
import { DEFAULT_TRAINING, train } from "../scripts/task-classifier/learn.ts";
import { modelFileText } from "../scripts/task-classifier/model-file.ts";
import { ChatRequest } from "../src/call/chat-request.ts";
import { analyse } from "../src/routing/analyse.ts";
import committed from "../src/routing/task-model.json" with { type: "json" };
import { guessTask, TaskModel } from "../src/routing/task.ts";
import type { TaskInput } from "../src/routing/task-vote.ts";
import { TASKS, type Task } from "../src/routing/types.ts";

const MODEL_PATH = fileURLToPath(new URL("../src/routing/task-model.json", import.meta.url));
const taskOf = (messages: unknown[]) => analyse(ChatRequest.parse({ messages })).task;
const ask = (content: string) => taskOf([{ role: "user", content }]);
const prompt = (id: string, task: Task, latest: string, system = ""): LabelledPrompt => ({ id, task, input: { latest, system, history: [] } });

/** Text as a person would compare it: case and runs of white space do not make a prompt new. */
const normalised = (input: TaskInput) => [input.system, ...input.history.map((t) => t.text), input.latest].join("\n").toLowerCase().replace(/\s+/g, " ").trim();

describe("learned task classifier", () => {
  it("trains deterministically: the same prompts twice give identical weights", () => {
    const tiny = [
      prompt("1", "translation", "Translate this into French: the train is late."),
      prompt("2", "translation", "How do you say thank you in Japanese?"),
      prompt("3", "code", "Write a Python function that reverses a linked list."),
      prompt("4", "code", "Fix this bug:\n```js\nconst x = undefined.foo;\n```"),
      prompt("5", "chat", "hi, how are you today?"),
      prompt("6", "chat", "thanks, that was fun to talk about"),
    ];
    const options = { ...DEFAULT_TRAINING, minPrompts: 1, epochs: 40 };
    const first = train(tiny, options);
    const second = train(tiny, options);
    expect(second).toEqual(first);
    expect(first.weights.some((w) => w !== 0)).toBe(true);
  });

  it("ships a model trained on the committed training data (rerun npm run train:task after changing it)", () => {
    const files = trainingFiles();
    expect(committed.trainedOn).toEqual(files.map((f) => f.split("/").pop()));
    expect(committed.dataHash).toBe(dataHash(files));
  });

  it("ships exactly the model that training on that data produces", () => {
    const model = train(trainingPrompts(trainingFiles().map((file) => readSet(file))));
    model.dataHash = committed.dataHash;
    model.trainedOn = committed.trainedOn;
    expect(modelFileText(model) === readFileSync(MODEL_PATH, "utf8"), "the committed model differs from a retrain: run npm run train:task").toBe(true);
    // A full training run: ~5 s on an idle machine, minutes when the shared machine is loaded.
  }, 900_000);

  it("keeps the model file small and valid", () => {
    // A guard against runaway growth, not a budget (issue 13's is 4 MB): twelve sources give 665 KiB (13,083 features).
    expect(readFileSync(MODEL_PATH).length).toBeLessThan(768 * 1024);
    expect(TaskModel.safeParse(committed).success).toBe(true);
  });

  it("never trains on an evaluation prompt", () => {
    const evalSets = readEvalSets();
    expect(evalSets.length).toBeGreaterThanOrEqual(EVAL_SETS.length - 1); // MT-Bench may be absent outside this workplace
    const evaluated = new Map<string, string>();
    for (const set of evalSets) for (const p of set.prompts) evaluated.set(normalised(p.input), `${set.name}/${p.id}`);
    const leaks = trainingFiles()
      .flatMap((file) => readSet(file).prompts)
      .filter((p) => evaluated.has(normalised(p.input)) || evaluated.has(normalised({ ...p.input, system: "", history: [] })))
      .map((p) => p.id);
    expect(leaks).toEqual([]);
  });

  it("gives every label a probability, summing to 1", () => {
    const { scores } = guessTask({ latest: "Summarise this thread for me", system: "", history: [] });
    expect(Object.keys(scores).sort()).toEqual([...TASKS].sort());
    expect(Object.values(scores).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });
});

describe("learned task classifier: behaviour", () => {
  it("reads a code fence with a stack trace as code", () => {
    const trace = "Traceback (most recent call last):\n  File \"app.py\", line 12, in <module>\n    main()\nKeyError: 'user_id'";
    expect(ask(`Getting this when I run it, any idea?\n\`\`\`\n${trace}\n\`\`\``)).toBe("code");
  });

  it("reads 'translate ... into French' as translation", () => {
    expect(ask("Please translate the following note into French: the meeting moved to Thursday at ten.")).toBe("translation");
  });

  it("lets a translation-engine system prompt label a bare sentence", () => {
    expect(
      taskOf([
        { role: "system", content: "You are a translation engine. Render every user message in German. Output only the translation." },
        { role: "user", content: "The invoice is attached and payment is due by the end of the month." },
      ]),
    ).toBe("translation");
  });

  it("reads a request for a summary of a pasted passage as summarization", () => {
    const passage = "The council voted to extend the bike lane network along the river, citing a rise in commuters. ".repeat(6);
    expect(ask(`Give me a two-sentence summary of this:\n${passage}\nThanks!`)).toBe("summarization");
  });

  it("reads a sentiment question as classification", () => {
    expect(ask("Is this review positive, negative or neutral? \"Arrived on time, works as described, nothing special.\"")).toBe("classification");
  });

  it("reads an equation to solve as math", () => {
    expect(ask("Solve for x: 3x + 7 = 22")).toBe("math");
  });

  it("reads a greeting as chat", () => {
    expect(ask("hey! how's your day going?")).toBe("chat");
  });
});

describe("learned task classifier: the nine languages of issue 13", () => {
  // Requests a person writes in each language; none is in the training data. Translation is
  // translation whichever two languages it is between.
  const translations: Array<[string, string]> = [
    ["zh → en", "请把这句话翻译成英文：今天天气很好，我们去公园散步吧。"],
    ["ja → zh", "把下面的日语译成中文：明日は雨が降るでしょう。"],
    ["ja → en", "次の文を英語に翻訳してください：猫が窓のそばで寝ています。"],
    ["es → de", "Traduce al alemán: Mañana tenemos una reunión a las diez."],
    ["de → fr", "Übersetze bitte ins Französische: Ich habe meinen Schlüssel verloren."],
    ["fr → es", "Traduis en espagnol : Le train part à huit heures."],
    ["ru → en", "Переведи на английский: Я люблю читать книги по вечерам."],
    ["ar → en", "ترجم الجملة التالية إلى الإنجليزية: أنا أحب القهوة في الصباح."],
    ["hi → en", "इस वाक्य का अंग्रेज़ी में अनुवाद करें: मैं कल दिल्ली जा रहा हूँ।"],
    ["pt → en", "Traduza para o inglês: Eu gostaria de reservar uma mesa para duas pessoas."],
    ["ja → ru, asked in English", "Translate this Japanese into Russian: 東京は日本の首都です。"],
    ["zh → fr, asked in Chinese", "帮我把这段话译成法语：我们下周见。"],
  ];
  it.each(translations)("reads a translation request (%s) as translation", (_, text) => {
    expect(ask(text)).toBe("translation");
  });

  const others: Array<[Task, string]> = [
    ["summarization", "请总结一下这篇文章的主要内容：\n近年来，人工智能技术发展迅速，在医疗、教育、金融等领域得到了广泛应用。\n然而，人工智能也带来了隐私和就业方面的挑战。"],
    ["summarization", "以下の文章を要約してください。\n日本の人口は減少を続けており、地方では過疎化が深刻な問題となっている。"],
    ["summarization", "Кратко перескажи текст: Компания объявила о запуске нового продукта, который поступит в продажу в марте."],
    ["creative", "写一首关于秋天的诗。"],
    ["creative", "Escribe un cuento corto sobre un dragón que tiene miedo al fuego."],
    ["code", "用Python写一个函数，判断一个字符串是不是回文。"],
    ["math", "一个长方形的长是8厘米，宽是5厘米，它的面积是多少？"],
    ["reasoning", "如果所有的猫都是动物，有些动物会游泳，那么能否推出有些猫会游泳？"],
    ["chat", "你好！今天过得怎么样？"],
  ];
  it.each(others)("reads a %s request written in another language by its task", (task, text) => {
    expect(ask(text)).toBe(task);
  });
});
