import type { TaskFeature } from "./task-features.ts";

/**
 * The same surface signals as task-features.ts, as people write them in Chinese, Japanese,
 * Spanish, German, French, Russian, Arabic, Hindi and Portuguese (issue 13: a request gets the
 * label of its English equivalent). The training prompts hold few of these languages, so without
 * these a Chinese "请把这句话翻译成英文" or a Russian "Кратко перескажи текст" read as chat.
 *
 * Chinese and Japanese put no spaces between words and `\b` only knows ASCII letters, so the
 * patterns for scripts other than Latin match stems without word boundaries; Latin-script words
 * keep `\b` on their ASCII ends only. Text arrives lower-cased (task-vote.ts#windowOf).
 */

/** Target-language phrases: "into English" in the nine languages (and the commonest targets). */
const INTO_LANGUAGE = [
  // Chinese: 成/为/到 + language ("翻成英文", "译为法语"), and 用 + language + 说/写
  "(?:成|为|為|到)(?:英文|英语|英語|中文|汉语|漢語|日语|日文|法语|法文|德语|德文|西班牙语|西班牙文|俄语|俄文|韩语|韩文|阿拉伯语|葡萄牙语|印地语|意大利语)",
  "用(?:英文|英语|中文|日语|法语|德语|西班牙语|俄语|韩语)(?:怎么|如何)(?:说|讲|表达|写)",
  // Japanese: language + に/で (英語に, 日本語で何と言う)
  "(?:英語|日本語|中国語|フランス語|ドイツ語|スペイン語|韓国語|ロシア語|ポルトガル語|アラビア語)(?:に(?:訳|翻訳|直)|で(?:何と|なんて|どう)言)",
  // Russian: на + language (accusative), по-английски
  "на (?:английский|русский|немецкий|французский|испанский|китайский|японский|арабский|португальский|итальянский|корейский)|как (?:сказать|будет) по-",
  // Arabic: إلى + language
  "(?:إلى|الى) (?:الإنجليزية|الانجليزية|الإنكليزية|العربية|الفرنسية|الألمانية|الإسبانية|الصينية|اليابانية|الروسية)|كيف (?:أقول|اقول|نقول|تقول)",
  // Hindi: language + में (अंग्रेज़ी में)
  "(?:अंग्रेज़ी|अंग्रेजी|हिंदी|हिन्दी|फ्रेंच|जर्मन|स्पेनिश|चीनी|जापानी|रूसी|अरबी) में (?:अनुवाद|कैसे कहते|बदल)",
  // Spanish, Portuguese, German, French: the preposition before the target language
  "\\b(?:al|para el|para o|para a|ins|auf|vers l'|en) (?:inglés|ingles|español|espanol|francés|frances|alemán|aleman|chino|japonés|ruso|árabe|portugués|inglês|espanhol|francês|alemão|chinês|japonês|russo|englische|deutsche|französische|spanische|chinesische|japanische|russische|englisch|deutsch|anglais|espagnol|allemand|chinois|japonais|russe|arabe|portugais)",
].join("|");

export const OTHER_LANGUAGE_FEATURES: readonly TaskFeature[] = [
  {
    id: "translate_verb_other_language",
    votes: { translation: 4 },
    pattern: /翻译|翻譯|翻訳|译成|譯成|译为|訳して|訳す|英訳|和訳|中译|перев(?:од|ед|ест|оди)|ترجم|अनुवाद|\btraduz|\btraduc|\btradu[iz]|(?<![a-zà-ÿ])übersetz|\bubersetz/,
  },
  { id: "into_language_other_language", votes: { translation: 2.5 }, pattern: new RegExp(INTO_LANGUAGE) },
  {
    id: "summarize_other_language",
    votes: { summarization: 4 },
    pattern:
      /总结|總結|概括|摘要|归纳|歸納|概述|梗概|要約|要点を|まとめ|要旨|резюм|перескаж|кратк(?:о|ое|ую) (?:излож|содерж|опиш)|суммариз|لخص|تلخيص|ملخص|सारांश|संक्षेप|\bresum(?:en|ir|a|e (?:este|esta|el|la|en|o)|o do|iendo)\b|\brésum(?:er|ez|e (?:ce|cet|cette|le|la|en))\b|\bzusammenfass|\bfass\w* [^.\n]{0,40}\bzusammen\b|\bsintetiz/,
  },
  {
    id: "writing_request_other_language",
    votes: { creative: 3 },
    pattern:
      /写(?:一|几|首|篇|个|段|封)[^。？！\n]{0,12}(?:诗|词|故事|小说|文章|作文|歌|信|文案|口号|广告|剧本|演讲|祝福|散文)|(?:詩|物語|小説|エッセイ|歌詞|手紙|キャッチコピー|ストーリー)を(?:書|作)|напиши(?:те)? [^.\n]{0,30}(?:стих|рассказ|сказк|песн|эссе|письм|пост|историю|поздравлени)|اكتب [^.\n]{0,30}(?:قصيدة|قصة|مقال|رسالة)|(?:कविता|कहानी|निबंध) लिख|\bescrib\w* [^.\n]{0,30}\b(?:poema|cuento|historia|ensayo|carta|canci)|\bescrev\w* [^.\n]{0,30}\b(?:poema|conto|hist|ensaio|carta|can)|\bschreib\w* [^.\n]{0,30}\b(?:gedicht|geschichte|brief|aufsatz|lied|rede|gl)|(?<![a-zà-ÿ])écri\w* [^.\n]{0,30}\b(?:po|histoire|lettre|conte|chanson|discours)/,
  },
  {
    id: "creative_vocabulary_other_language",
    votes: { creative: 1.5 },
    pattern: /诗歌|一首诗|小说|故事|歌词|口号|广告语|頭韻|俳句|詩|物語|стихотворени|сказк|قصيدة|कविता|कहानी|\bpoema\b|\bcuento\b|\bgedicht|\bpoème|\bconto\b/,
  },
  {
    id: "code_other_language",
    votes: { code: 1.5 },
    pattern: /代码|代碼|程序|程式|函数|函數|编程|編程|脚本|算法|コード|関数|プログラム|スクリプト|アルゴリズム|(?<![а-яё])код(?:а|е|ом|у)?(?![а-яё])|функци[юяи]|программ|скрипт|كود|برمجة|دالة|कोड|प्रोग्राम|\bfunción\b|\bcódigo\b|\bfunção\b|\bfonction\b|\bfunktion\b|\bprogrammier/,
  },
  {
    id: "math_other_language",
    votes: { math: 2 },
    pattern: /计算|計算|求解|方程|面积|面積|周长|概率|確率|积分|積分|微分|几何|вычисл|уравнени|реши(?:те)? (?:задачу|уравнени|пример)|احسب|معادلة|गणना|समीकरण|हल कर|\bcalcul[ae]\b|\bcalcular\b|\becuaci|\bberechne|\bgleichung|(?<![a-zà-ÿ])équation|\bequação|\bresolva\b|\bresuelve\b/,
  },
  {
    id: "reasoning_other_language",
    votes: { reasoning: 2 },
    pattern: /推理|逻辑|邏輯|谜题|謎題|谜语|推断|推斷|能否推出|可以推出|推論|論理|なぞなぞ|パズル|логик|загадк|головоломк|следует ли|لغز|منطق|पहेली|तर्क|\bacertijo|\brätsel|\blogik|(?<![a-zà-ÿ])énigme|\benigma\b|\bcharada|\blógic/,
  },
  // "All X are Y ... some Y ... can we conclude": a syllogism, as in task-features.ts#quantifiers.
  {
    id: "quantifiers_other_language",
    votes: { reasoning: 1.5 },
    pattern: /(?:所有的?|一切)[^，,。]{1,12}都|(?:すべての|全ての)[^、。]{1,12}は|(?:如果|假如|假设)[^。？]{2,40}(?:那么|是否|能否)|(?<![а-яё])все [а-яё]+ [^.]{0,40}(?<![а-яё])некоторые|\btodos los [a-z]+ son\b|\balle [a-zäöüß]+ sind\b|\btous les [a-zé]+ sont\b|\btodos os [a-z]+ são/,
  },
  {
    id: "classify_other_language",
    votes: { classification: 3 },
    pattern:
      /分类|分類|归类|歸類|情感分析|情感倾向|正面还是负面|积极还是消极|ポジティブかネガティブ|感情分析|классифиц|тональност|к какой категори|صنف|تصنيف|वर्गीकृत|वर्गीकरण|\bclasific|\bklassifizier|\bkategorisier|\bclasse[rz]\b|\bclassifi(?:que|quez|e[rz]?)\b|positivo o negativo|positiv oder negativ|positif ou négatif|positivo ou negativo/,
  },
  {
    id: "extract_other_language",
    votes: { extraction: 3 },
    pattern: /提取|抽取|抽出|找出所有|列出所有|取り出|извлек|выдели все|استخرج|استخراج|निकालें|\bextrae\b|\bextraer\b|\bextrahier|\bextrai[ra]?\b|\bextraia\b|\bextrayez\b/,
  },
  {
    id: "question_other_language",
    votes: { qa: 1 },
    pattern:
      /什么是|是什么|為什麼|为什么|怎么样|如何|哪些|とは|なぜ|どうして|何ですか|ですか|что такое|почему|как работает|ما هو|ما هي|لماذا|क्या है|क्यों|कैसे|\bqué es\b|\bpor qué|\bwas ist\b|\bwarum\b|\bqu'est-ce\b|\bpourquoi\b|\bo que é|\bpor que\b|\bexplica\b|\berkläre|\bexplique|[？؟]\s*$/,
  },
  {
    id: "greeting_other_language",
    votes: { chat: 3 },
    pattern:
      /^(?:你好|您好|嗨|谢谢|謝謝|早上好|晚上好|晚安|こんにちは|こんばんは|おはよう|ありがとう|привет|здравствуй|спасибо|добр(?:ый|ое) (?:день|вечер|утро)|مرحبا|السلام عليكم|شكرا|नमस्ते|धन्यवाद|hola\b|buen(?:os|as) (?:días|dias|tardes|noches)|gracias\b|hallo\b|guten (?:morgen|tag|abend)|danke\b|bonjour\b|salut\b|merci\b|olá|oi\b|obrigad)/,
  },
  {
    id: "small_talk_other_language",
    votes: { chat: 2.5 },
    pattern: /你好吗|你是谁|你叫什么|お元気ですか|元気？|как дела|как ты\b|كيف حالك|आप कैसे हैं|cómo estás|wie geht'?s|wie geht es dir|comment ça va|comment vas-tu|comment allez-vous|como vai|tudo bem/,
  },
];
