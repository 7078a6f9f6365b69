import { OTHER_LANGUAGE_FEATURES } from "./task-features-languages.ts";
import type { Task } from "./types.ts";

/**
 * The task classifier's features: general surface signals of what a prompt asks for, each
 * voting for one or more labels. The classifier (task.ts) lower-cases the text once, so the
 * patterns are lower-case. A feature counts once per turn, or once per distinct match up to
 * `cap` when it lists vocabulary (more distinct maths words, more evidence). docs/routing.md
 * explains which features drive each label; keep the two in step.
 */
export interface TaskFeature {
  id: string;
  votes: Partial<Record<Task, number>>;
  pattern: RegExp;
  /** Count distinct matches, up to this many (the pattern must be global). */
  cap?: number;
  /** The feature fires only when this also matches the same text. */
  requires?: RegExp;
}

const LANGUAGES =
  "english|french|spanish|german|italian|portuguese|dutch|russian|chinese|mandarin|cantonese|japanese|korean|arabic|hindi|bengali|urdu|turkish|polish|swedish|norwegian|danish|finnish|greek|hebrew|vietnamese|thai|indonesian|malay|ukrainian|czech|romanian|hungarian|persian|farsi|latin|swahili|tagalog|catalan";

/** Language names as their speakers and neighbours write them, for prompts not in English. */
const LANGUAGES_NATIVE =
  "inglés|ingles|francés|frances|alemán|aleman|español|espanol|italiano|portugués|anglais|français|allemand|espagnol|italien|englisch|französisch|deutsch|spanisch|italienisch|inglese|francese|tedesco|spagnolo|inglês|francês|alemão";

const WRITING_FORMS =
  "poems?|poetry|haikus?|limericks?|sonnets?|verses?|songs?|lyrics|raps?|story|stories|tales?|fables?|novel|chapter|scene|screenplay|script for|dialogue|monologue|essays?|blog(?: post)?|articles?|op-ed|speech|toast|eulogy|letters?|e-?mails?|cover letter|tweets?|social media posts?|captions?|slogans?|taglines?|headlines?|jingle|ads?|advertisements?|ad copy|product descriptions?|bio|paragraphs?|outline|pitch|jokes?|names? for|character|plot|vows|invitation|newsletter|press release|opening (?:line|paragraph|sentence)";

export const TASK_FEATURES: readonly TaskFeature[] = [
  // --- code: fenced blocks, language names, code nouns, "write/implement a function", syntax, errors
  // Fences also carry data, equations and prose, so a fence alone is not decisive.
  { id: "code_fence", votes: { code: 2 }, pattern: /```/ },
  {
    id: "programming_language",
    votes: { code: 1.5 },
    pattern:
      /\b(?:python|javascript|typescript|java|golang|rust|ruby|php|kotlin|swift|scala|haskell|perl|bash|shell script|powershell|sql|html|css|react|node\.?js|django|flask|numpy|pandas|regex|regexp|dockerfile|kubernetes|vue|angular|svelte|next\.js|express|spring boot|rails|laravel|fastapi|\.net|graphql|postgres(?:ql)?|mysql|mongodb|redis|terraform|c\+\+|c#)(?![\w+#])|\bgo (?:code|handler|function|program|module|routine|struct)|\bin go\b/,
  },
  {
    id: "code_vocabulary",
    votes: { code: 1 },
    cap: 3,
    pattern:
      /\b(?:functions?|methods?|class(?:es)?|programs?|scripts?|algorithms?|apis?|endpoints?|compiler?|debug|bugs?|refactor|unit tests?|stack trace|variables?|arrays?|linked lists?|binary (?:search )?trees?|nodes?|hash ?maps?|recursion|recursive|time complexity|space complexity|data structures?|runtime|syntax|null pointer|repository|git|pull request|website|web page|frontend|backend|database|schema|query|queries|json parser|sorted (?:lists?|arrays?)|integer array|strings?|components?|re-?renders?|props|hooks?|npm|docker|containers?|deploy\w*|lint\w*|build fails|handlers?|structs?|interfaces?|types?cript|compile\w*|cors|http|https|localhost|server|client|headers?|requests?|responses?|json|yaml|env(?:ironment)? variables?|config(?:uration)? files?|ssl|tls|dns|ports?|terminal|command line|ssh|linux|cli|stack overflow|framework|library|dependenc(?:y|ies)|vector|pointer|thread|async|await|promise|callback|loop|iterate|boolean|integer overflow|memory leak|cache|github|gitlab|ci\/cd|ci pipeline|pytest|jest|vitest|webpack|eslint|makefile|cmake|gradle|maven|pip|conda|virtualenv|venv|dataframe|df|loops?|indexes|indices)\b/g,
  },
  {
    id: "code_request",
    votes: { code: 3 },
    // The object must follow within a few words: "write a limerick about a cat who learns to code" is not a code request.
    pattern:
      /\b(?:write|implement|create|build|develop|code|fix|debug|refactor|optimi[sz]e|port|convert|complete|add)(?:\s+[\w+#.-]+){0,4}?\s+(?:functions?|programs?|scripts?|class(?:es)?|methods?|code|api|endpoints?|regex|sql query|query|website|web page|app|application|components?|algorithms?|unit tests?|tests|cli|snippet|handler|one-liner)\b/,
  },
  { id: "implement_verb", votes: { code: 1.5 }, pattern: /(?:^|[.!?]\s+)(?:please )?implement\b/ },
  { id: "code_verbs", votes: { code: 1.5 }, pattern: /\b(?:refactor\w*|debug\w*|compil(?:e|es|ing)|transpile|deploy|lint)\b/ },
  {
    id: "code_syntax",
    votes: { code: 2 },
    pattern:
      /\bdef \w+\(|\bfunction\s*\w*\s*\(|\bfunc \w*\(|\bfn \w+\(|=>|:=|\b(?:const|let|var) \w+ =|#include|^\s*import [\w{]|\bpublic (?:static )?(?:void|class)|\bselect [\w*, ]+ from \w|console\.log|\bprint\(|\b\w+\.\w+\(\)|\)\s*\{|;\s*$|!= ?nil\b|\bnull\b|\bundefined\b|\bfor \w+ in \w+|\brange\(|\b\w+\[['"\w, ]+\]\s*=/m,
  },
  {
    id: "error_trace",
    votes: { code: 1.5 },
    pattern: /traceback \(most recent|\b(?:type|reference|syntax|attribute|key|index|value)error\b|nullpointerexception|segmentation fault|undefined is not a function|cannot read propert|exit code \d|stack ?trace/,
  },
  // Dense runs of brackets and operators read as code or a pattern, not prose.
  { id: "symbol_density", votes: { code: 1, math: 0.5 }, pattern: /(?:[(){}[\]<>=;$^*\\|&][^\s(){}[\]<>=;$^*\\|&]{0,3}){4}/ },
  { id: "big_o", votes: { code: 1.5 }, pattern: /\bo\((?:1|n|log n|n log n|n\^?2|m ?\+ ?n|k)\)/ },

  // --- math: equations, maths vocabulary, numeric questions, f(x), LaTeX
  {
    id: "equation",
    votes: { math: 1.5 },
    // Operands are numbers or one-letter variables; a bare hyphen is a range or a date, not a sum.
    pattern: /(?:^|[\s(|])(?:\d+(?:\.\d+)?|[a-z]|\d*[a-z]\^\d)\s*(?:[+*/^=<>≤≥×÷]|\s-\s)\s*-?(?:\d+(?:\.\d+)?[a-z]?|[a-z])(?=[\s),.;:?|^]|$)/m,
  },
  // Years are dates, not quantities to compute with.
  { id: "numbers", votes: { math: 0.3 }, cap: 3, pattern: /(?<![\w.])(?!(?:19|20)\d\d(?![\d.,]))\d+(?:[.,]\d+)?%?(?![\w.])/g },
  {
    id: "quantities",
    votes: { math: 0.6 },
    cap: 2,
    pattern: /\b\d+(?:\.\d+)?\s?(?:km|kg|mg|cm|mm|m|g|mph|km\/h|hours?|minutes?|seconds?|miles|metres|meters|litres?|liters?|dollars|euros|percent|units)\b/g,
  },
  {
    id: "math_vocabulary",
    votes: { math: 1 },
    cap: 3,
    pattern:
      /\b(?:solve|equations?|integrals?|integrate|derivatives?|differentiate|probability|calculate|compute|theorem|polynomials?|matrix|matrices|eigen\w*|remainder|divisible|divided by|prime numbers?|inequality|integers?|area|volume|perimeter|triangle|circle|radius|diameter|square root|percent(?:age)?|average|ratio|fraction|factorial|logarithm|sum of|product of|interest rate|compound interest|geometric|arithmetic|sequence|vertices|angle|hypotenuse|expected value|variance|standard deviation|dice|coins?|combinations|permutations|proof|irrational|rational number|real numbers?|modulo|gcd|lcm|formula|simplify|factori[sz]e|expand|degrees (?:fahrenheit|celsius))\b/g,
  },
  {
    id: "numeric_question",
    votes: { math: 2 },
    pattern:
      /\b(?:what(?: is|'s) (?:the|its) (?:average |total |final )?(?:value|area|probability|sum|product|total|remainder|average|volume|perimeter|derivative|integral|determinant|result|speed|rate|distance|cost)|how much (?:money|did|does|will|would|is left)|find (?:the )?(?:value|sum|area|number|derivative|integral|roots?|solutions?|x)\b|express [a-z\- ]{1,10} in (?:terms of )?[a-z]\b|evaluate (?:the )?(?:integral|expression|limit)|the total (?:cost|amount|number))/,
  },
  {
    // "How many bones are in the body?" recalls a fact; a "how many" with numbers to work on is arithmetic.
    id: "how_many_with_numbers",
    votes: { math: 2 },
    pattern: /\bhow many [^.?!]{0,60}\?/,
    requires: /\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|hundred|half|twice|double|triple)\b/,
  },
  { id: "unit_conversion", votes: { math: 2 }, pattern: /\bconvert \d+(?:\.\d+)? ?[a-z°%]+/ },
  { id: "function_notation", votes: { math: 2 }, pattern: /\b[a-z]\([a-z0-9]\)\s*=|\bf\(\d+\)/ },
  { id: "latex", votes: { math: 2 }, pattern: /\\(?:frac|sqrt|sum|int|cdot|times|leq|geq)\b|\$\$/ },
  { id: "money_amount", votes: { math: 0.5 }, pattern: /\$\s?\d/ },
  { id: "percent_of", votes: { math: 2 }, pattern: /\b\d+(?:\.\d+)?\s?(?:%|percent) of \$?\d/ },
  { id: "prove", votes: { math: 1, reasoning: 0.5 }, pattern: /\bprove\b|\bshow that\b/ },

  // --- reasoning: puzzles, logic, truth values, odd-one-out, kinship, spatial and ordering relations
  {
    id: "logic_vocabulary",
    votes: { reasoning: 2 },
    pattern: /\b(?:puzzles?|riddles?|brain ?teasers?|logic(?:al)?|deduce|deduction|infer|inference|syllogism|premises?|paradox|contradiction|lateral thinking)\b/,
  },
  { id: "truth_values", votes: { reasoning: 2.5 }, pattern: /\btrue,? (?:or )?false,? or (?:uncertain|unknown|cannot be determined)|\btrue or false\b|\bis the (?:third |last )?statement (?:true|false)/ },
  { id: "odd_one_out", votes: { reasoning: 3 }, pattern: /\b(?:does not|doesn't|do not|don't) belong|odd one out|which (?:one|word|number|item) is (?:different|the odd)/ },
  { id: "kinship", votes: { reasoning: 1.5 }, cap: 2, pattern: /\b(?:father|mother|brothers?|sisters?|sons?|daughters?|uncle|aunt|cousin|grandfather|grandmother|siblings?|nephew|niece)\b/g },
  { id: "relationship_between", votes: { reasoning: 1.5 }, pattern: /\brelationship between [a-z]+ and [a-z]+/ },
  {
    id: "spatial",
    votes: { reasoning: 1 },
    cap: 2,
    pattern: /\b(?:east|west|north|south|to (?:your|his|her|the) (?:left|right)|in (?:the )?front|behind|clockwise|facing|shadow)\b/g,
  },
  {
    id: "ordering",
    votes: { reasoning: 1.5 },
    pattern:
      /\b(?:taller|shorter|older|younger|faster|slower|heavier|lighter|richer) than\b|\bcosts? (?:more|less) than\b|\bin that order\b|\bovertak\w*|\bnext to\b[^.]{0,40}\b(?:car|seat|house|person)|\bparked\b|\bseated\b|\bsits?\b|\bin a (?:row|circle|line|queue)\b|\beither end\b|\b(?:immediately )?(?:left|right) of\b/,
  },
  {
    id: "abductive",
    votes: { reasoning: 2.5 },
    pattern: /\bwhat (?:could|might) (?:be )?(?:the )?(?:reasons?|explain|cause)|\bpossible (?:reasons|explanations)\b|\bhow (?:is|could|can) (?:this|that|it) (?:be )?possible/,
  },
  {
    id: "explain_reasoning",
    votes: { reasoning: 1.5, math: 0.3 },
    pattern: /\bexplain your (?:reasoning|answer|logic)|\breasoning steps\b|\bstep[- ]by[- ]step\b|\bthink (?:it )?through\b|\bjustify your answer\b|\bshow your (?:work|reasoning)\b/,
  },
  { id: "hypothetical", votes: { reasoning: 1, math: 0.3 }, pattern: /\bif\b[^.?!]{3,80}\b(?:then|what|how many|who|which|where)\b/ },
  {
    id: "logical_conclusion",
    votes: { reasoning: 2.5 },
    pattern: /\bdoes it follow\b|\b(?:what|which) (?:can|must) (?:we|you|be) (?:conclude|true|inferred)|\bcan (?:we|you|i) (?:conclude|say|assume|infer)\b|\bmust (?:be|also be) true\b|\bnecessarily (?:true|follow)/,
  },
  { id: "quantifiers", votes: { reasoning: 1.5 }, pattern: /\b(?:all|some|no|every) [a-z]+s? (?:are|is)\b[^.?]{0,60}\b(?:all|some|no|every) [a-z]+/ },
  {
    id: "puzzle_cues",
    votes: { reasoning: 1.5 },
    pattern: /\bthink (?:carefully|twice|again)\b|\btrick question\b|\b(?:shortest|minimum|fewest|least) (?:total )?(?:time|number of (?:moves|steps|weighings|trips|crossings|questions))\b|\bat most (?:two|one|three) (?:can|people|items)\b|\bevery label is wrong\b|\bonly once\b|\byou (?:can|may) only\b|\bwithout (?:looking|opening|seeing)\b|\bthe catch\b|\bwhich (?:is|weighs) (?:heavier|lighter|more|bigger|faster)\b/,
  },
  { id: "choice_question", votes: { reasoning: 1.5 }, pattern: /\bwhich (?:situation|option|answer|statement|choice|of the following|one should)\b/ },

  // --- summarization: summarise verbs, "key points", "in N sentences", "what is this article about"
  { id: "summarize_verb", votes: { summarization: 4 }, pattern: /\b(?:summari[sz]\w*|summary|summaries|tl;?dr|condense|recap|synopsis|gist|boil (?:it|this) down)\b/ },
  {
    id: "key_points",
    votes: { summarization: 1.5 },
    pattern: /\b(?:key|main) (?:points|takeaways|ideas|arguments)\b|\bin (?:one|two|three|a few|\d+) (?:short )?(?:sentences?|bullet points?|bullets|lines)\b/,
  },
  { id: "about_what", votes: { summarization: 2 }, pattern: /\bwhat is (?:this|the) (?:article|text|passage|document|paper|email|thread|video|transcript) about\b/ },
  { id: "shorten", votes: { summarization: 1.5 }, pattern: /\b(?:shorten|make (?:it|this) shorter|cut (?:it|this) down)\b/ },

  // --- translation: "translate", "into <language>", "how do you say ... in <language>"
  { id: "translate_verb", votes: { translation: 4 }, pattern: /\btranslat\w*|\btraduc\w*|\btradu[iz]\w*|\bübersetz\w*/ },
  {
    id: "how_to_say",
    votes: { translation: 3 },
    pattern: new RegExp(`\\b(?:c[oó]mo se dice|comment (?:dit-on|on dit)|wie sagt man|come si dice)\\b|\\b(?:${LANGUAGES}) (?:version|equivalent|translation)\\b|\\b(?:en|in|auf|au) (?:${LANGUAGES_NATIVE})\\b|\\bthe (?:${LANGUAGES}) (?:for|word for|way to say)\\b`),
  },
  { id: "into_language", votes: { translation: 1.5 }, pattern: new RegExp(`\\b(?:into|to) (?:plain |simple |proper |formal |modern )?(?:${LANGUAGES})\\b`) },
  { id: "language_pair", votes: { translation: 2 }, pattern: new RegExp(`\\b(?:${LANGUAGES})\\b.{1,60}\\b(?:in|into|to) (?:${LANGUAGES})\\b`) },
  {
    id: "foreign_words",
    votes: { translation: 0.6 },
    cap: 3,
    // Function words of the commonest European languages: a prompt carrying foreign text is
    // usually about that text's language.
    pattern:
      /(?<![\w'])(?:je|vous|nous|est|une|des|pour|avec|dans|und|ist|nicht|der|die|das|wir|ich|haben|wurde|bitte|sie|el|los|las|una|para|por|muy|está|cómo|qué|il|che|sono|della|não|uma|você|het|een|niet)(?![\w'])/g,
  },
  { id: "say_in_language", votes: { translation: 3 }, pattern: new RegExp(`\\b(?:say|said|write|express|mean|means|called)\\b[^.?!\\n]{0,60}\\bin (?:${LANGUAGES})\\b`) },

  // --- extraction: extract verbs, "list all the names", entities, pasted data + output format
  { id: "extract_verb", votes: { extraction: 3.5 }, pattern: /\b(?:extract|pull out|pull (?:the|all|every)|parse|scrape)\b/ },
  {
    id: "find_items",
    votes: { extraction: 2.5 },
    pattern:
      /\b(?:identify|find|list|locate|pick out|get(?: me)?|give me|return|show me)(?: just| only)? (?:all |every |each )?(?:the )?(?:names?|order numbers?|invoice numbers?|due dates?|totals?|dates?|e-?mails?|email addresses|phone numbers?|addresses|urls?|links|entities|named entities|people|persons|organi[sz]ations|companies|locations|places|countries|cities|products|prices|amounts|keywords|ingredients|fields|values|skills|mentions|action items)\b/,
  },
  { id: "entities", votes: { extraction: 2 }, pattern: /\bnamed entit(?:y|ies)\b|\bentities\b/ },
  {
    id: "document_reference",
    votes: { extraction: 2 },
    pattern:
      /\b(?:from|on|in) (?:this|that|these|my|the attached) (?:message|e-?mail|text|invoice|receipt|document|pdf|page|form|record|log|signature|resume|cv|contract|ticket|transcript|snippet|table|screenshot)s?\b/,
  },
  { id: "material_below", votes: { extraction: 1.5, summarization: 0.3 }, pattern: /\b(?:from|in|on) the (?:[a-z-]+ ){0,2}(?:below|above)\b/ },
  {
    id: "field_names",
    votes: { extraction: 1 },
    cap: 2,
    pattern: /\b(?:order number|invoice number|due date|total amount|amount due|delivery address|shipping address|phone number|email address|date of birth|sender|recipient|account number)s?\b/g,
  },
  { id: "mentioned_in", votes: { extraction: 2 }, pattern: /\b(?:mentioned|referenced|named|listed|cited) in (?:this|the|these|that)\b/ },
  {
    id: "given_data",
    votes: { extraction: 1.5, summarization: 0.3, qa: 0.2 },
    pattern:
      /\b(?:from|in) the (?:following|above|below|given|provided|attached) (?:text|passage|paragraph|article|document|e-?mail|data|records|table|list|report|sentences?|reviews?|invoice|resume|cv|transcript|log|csv|json)\b|\bgiven the following (?:data|text|records|information)\b|\bthe following (?:data|records|information)\b|\b(?:read|from) the (?:paragraph|passage|text) below\b/,
  },
  {
    id: "output_format",
    votes: { extraction: 2 },
    pattern:
      /\b(?:output|return|format|present|respond|provide|generate)\b[^.\n]{0,40}\b(?:json|csv|yaml|xml|key[- ]value|a table|table format|in the format|the format of)\b|\bin (?:json|csv) format\b|\bas (?:a )?(?:json|csv)\b/,
  },
  { id: "count_occurrences", votes: { extraction: 1.5 }, pattern: /\bcount (?:how many|the number of) (?:times|occurrences)|\bhow many times (?:does|do|is|are)?\b[^?]*\bappears?\b|\bnumber of (?:appearances|occurrences)\b/ },
  { id: "fields", votes: { extraction: 1 }, pattern: /\bthe following (?:information|fields|details)\b|\bkey information\b|\bdetails such as\b/ },

  // --- classification: classify verbs, sentiment, categories, labels, yes/no answers
  { id: "classify_verb", votes: { classification: 3.5 }, pattern: /\b(?:classify|classification|categori[sz]e|categori[sz]ation|label (?:each|the|this|these|it|them)|tag (?:each|the|this|these|it|them)|triage)\b/ },
  {
    id: "sentiment",
    votes: { classification: 2.5 },
    pattern: /\bsentiment\b|\b(?:positive|negative|neutral)\b[^.]{0,60}\b(?:positive|negative|neutral)\b|\bpositive,? (?:neutral,? )?(?:or )?negative\b|\bnegative,? (?:neutral,? )?(?:or )?positive\b|\btoxic(?:ity)?\b|\bspam or (?:not|ham)\b|\bis (?:this|it) spam\b|\b(?:user|customer)'?s? intent\b|\bthe intent of\b/,
  },
  {
    id: "categories",
    votes: { classification: 3 },
    pattern:
      /\b(?:which|what) (?:category|class|label|genre|type|kind|bucket|language|topic|department|team) (?:does|is|are|best|would|should)|\binto (?:one of )?(?:these|the following|\w+) (?:categories|classes|groups|buckets)\b|\bone of (?:these|the following) (?:categories|labels|classes|topics)|\bassign\b[^.\n]{0,40}\b(?:categor\w+|labels?|class(?:es)?|tags?)\b/,
  },
  // "Which of these are X and which are Y": sorting items into two given groups.
  { id: "which_and_which", votes: { classification: 3 }, pattern: /\bwhich (?:of (?:these|the following|them) )?(?:are|is)\b[^?.\n]{1,40}\band which (?:are|is)\b/ },
  { id: "category_set", votes: { classification: 2 }, pattern: /\bcategor(?:y|ies):|\b(?:given|from|using) (?:these|the following) (?:categories|labels|classes)\b|\b(?:categories|labels|classes) (?:are|is):/ },
  {
    id: "route_to",
    votes: { classification: 2.5 },
    pattern:
      /\b(?:route|assign|send|sort|bucket|triage|file) (?:this|each|these|the|every) (?:ticket|message|e-?mail|request|item|issue|question|document)s? (?:to|into)\b|\b(?:sort|group|split|divide|bucket) (?:these|the|each|this|them|my)\b[^.?!]{0,40}\binto\b/,
  },
  { id: "decide_whether", votes: { classification: 2 }, pattern: /\b(?:decide|determine|tell me|judge) (?:whether|if) (?:each|this|these|the|it)\b/ },
  { id: "option_set", votes: { classification: 1.5 }, pattern: /\((?:[a-z_ -]{1,20}(?:,|\/| or )\s*){1,6}[a-z_ -]{1,20}\)/ },
  { id: "rating_scale", votes: { classification: 1.5 }, pattern: /\bon a scale (?:of|from) \d+ to \d+\b|\brate (?:each|the|this|these)\b/ },
  {
    id: "either_or",
    votes: { classification: 1.5 },
    pattern: /\b(?:is|are) (?:this|these|the following|it|the) (?:[a-z-]+ ){0,3}(?:an? )?(?:[a-z-]+, )*[a-z-]+ or (?:an? )?[a-z- ]+\s*\?/,
  },
  { id: "label_only", votes: { classification: 2 }, pattern: /\b(?:answer|respond|reply) with (?:only )?(?:one word|a single word|the label|the category|yes or no)\b|\bonly (?:the )?(?:label|category)\b|\bwith one of:|\bone of: / },

  // --- creative: writing forms, role-play, rewriting, brainstorming, creative vocabulary
  {
    id: "writing_request",
    votes: { creative: 3 },
    pattern: new RegExp(
      `\\b(?:write|writing|compose|draft|craft|create|pen|generate|develop|prepare|produce|come up with|make up|invent)\\b[^.?!\\n]{0,40}\\b(?:${WRITING_FORMS})\\b|\\b(?:give me|i need|i want|suggest|send me)(?: (?:a|an|some|\\d+|two|three|five|ten))?(?: [a-z-]+){0,2} (?:${WRITING_FORMS})\\b`,
    ),
  },
  {
    id: "creative_vocabulary",
    votes: { creative: 0.8 },
    cap: 3,
    pattern:
      /\b(?:poem|poetry|poetic|poets?|rhymes?|rhyming|verse|limericks?|haikus?|sonnets?|lyrics|songs?|screenplay|toast|slogans?|story|fictional|fiction|narrative|characters?|plot|imagery|vivid|captivating|intriguing|engaging|catchy|witty|humorous|funny|persuasive|descriptive|sensory|whimsical|creative|imaginative|metaphors?|immersive|blog|headline|email)\b/g,
  },
  {
    id: "role_play",
    votes: { creative: 3.5 },
    pattern:
      /\b(?:pretend|role[- ]?play|act as|acting as|take on the role|assume the role|role of|play the (?:role|part) of|persona|in character|embody|you are now|now you are|speak like|talk like)\b|\b(?:imagine|picture|suppose|consider) (?:that )?(?:you are|you're|yourself as|yourself to be) (?:an? |the )?(?![a-z]+ing\b|in\b|at\b|on\b)[a-z-]+/,
  },
  {
    id: "rewrite",
    votes: { creative: 2.5 },
    pattern:
      /\b(?:rewrite|re-write|rephrase|paraphrase|reword|proofread|polish|edit (?:the|this|my)|correct (?:the |any |all )?(?:grammar|grammatical|spelling)|make (?:it|this|my|the)(?: [a-z-]+){0,3} (?:sound |feel |read )?(?:more|less) [a-z]+|improve (?:the|my) (?:writing|wording|tone|flow))\b/,
  },
  { id: "brainstorm", votes: { creative: 1.5 }, pattern: /\bbrainstorm|\bcome up with\b|\bpropose \d+\b|\bsuggest (?:some |a few |\d+ )?(?:names|titles|slogans|taglines)\b/ },
  // Asking for ideas or suggestions is brainstorming, whatever the topic.
  { id: "ideas_for", votes: { creative: 2 }, pattern: /\b(?:some|a few|\d+|any|good|fun|creative|new) ideas\b|\bideas (?:for|on|about)\b|\bsuggestions? for\b/ },

  // --- qa: question forms, explain/describe verbs, knowledge domains
  { id: "question_opening", votes: { qa: 1 }, pattern: /^(?:what|who|when|where|why|how|which|is|are|does|do|can|could|should|would|will|did)\b/ },
  {
    id: "explain_verbs",
    votes: { qa: 1 },
    cap: 3,
    pattern:
      /\b(?:explain|describe|discuss|define|definition of|what (?:is|are) (?:a|an|the)|what does|tell me about|elaborate|compare|contrast|differences? between|pros and cons|advantages|disadvantages|overview of|history of|how does|how do|how did|how have|why (?:is|are|do|does|did)|outline the|insights|what are (?:some|the)|list (?:some|\d+|three|five|ten)|examples? of|recommend|suggest|best (?:way|approach|practices?)|principles|concept)\b/g,
  },
  {
    id: "imperative_request",
    votes: { qa: 1 },
    // A sentence that opens with an ask verb is a task, not conversation; the specific labels
    // outvote this when their own features fire.
    pattern: /(?:^|[.!?]\s+)(?:please )?(?:explain|describe|list|provide|suggest|share|give|name|outline|design|plan|create|make|prepare|recommend|discuss|compare|evaluate|analy[sz]e|tell me|help me understand)\b/,
  },
  { id: "ends_with_question", votes: { qa: 1 }, pattern: /\?["'”’)]*\s*$/ },
  {
    id: "knowledge_domain",
    votes: { qa: 0.5 },
    cap: 3,
    pattern:
      /\b(?:physics|chemistry|chemical|biology|molecular|history|historical|economics|economic|philosophy|laws?|legal|medicine|medical|geography|astronomy|quantum|reaction|theory|scientific|politics|political|culture|cultural|literature|psychology|business|etiquette)\b/g,
  },

  // --- chat: greetings, thanks, small talk about the assistant or the user's day
  { id: "greeting", votes: { chat: 3 }, pattern: /^(?:hi|hello|hey|yo|hiya|howdy|good (?:morning|afternoon|evening|night)|greetings|thanks|thank you|thx|cheers|bye|goodbye|see you)\b/ },
  {
    id: "small_talk",
    votes: { chat: 2.5 },
    pattern:
      /\b(?:how are you|how's it going|what's up|how was your|nice to meet|who are you|what(?:'s| is) your name|are you (?:a bot|an ai|human|real)|do you (?:like|enjoy|have feelings|dream|ever)|are you ever|have you ever (?:felt|been)|(?:you|your) (?:feelings|favou?rite|opinion)|get bored|tell me about yourself|i(?:'m| am) (?:feeling|so |bored|tired|sad|happy|excited|lonely|stressed)|i feel\b|my day|let's (?:chat|talk)|just wanted to (?:say|chat)|you(?:'re| are) (?:great|awesome|funny|the best)|lol|haha)\b/,
  },

  // --- the same signals as written in the nine other languages issue 13 names
  ...OTHER_LANGUAGE_FEATURES,
];
