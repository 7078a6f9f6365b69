/**
 * A byte-pair encoder over a tiktoken ranks file (one `base64(token bytes) rank` per line), kept
 * compact: every token's bytes in one Uint8Array, their offsets by rank in a Uint32Array, and an
 * open-addressing hash table (FNV-1a over the bytes, linear probing) from bytes to rank in an
 * Int32Array. For o200k's 200k tokens that is about 6 MB (plus 256 KB for two-byte tokens, below),
 * where a JavaScript Map of strings plus the array literal it is built from cost about 60 MB of
 * RSS (bench/README.md).
 *
 * The merges are tiktoken's `byte_pair_merge` (openai/tiktoken src/lib.rs): rank every adjacent
 * pair, repeatedly merge the lowest-ranked pair (the first one on ties), re-ranking only its two
 * neighbours. tiktoken's loop is quadratic in the piece's length, so long pieces (a prompt with
 * no spaces is one piece) take a heap instead, with the same result. Special tokens are not
 * recognised: their text is encoded as text.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const NO_RANK = 0x7fffffff;
const SPACE = 0x20;
const NEWLINE = 0x0a;
const DIGIT_0 = 0x30;
/**
 * Pieces up to this many bytes go through tiktoken's quadratic loop, longer ones through the heap.
 * The two cost about the same from 16 to 128 bytes; past that the loop falls behind (twice the
 * time at 192 bytes of random letters).
 */
const SHORT_PIECE_BYTES = 64;
const BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_VALUE = new Uint8Array(128).fill(0xff);
for (let i = 0; i < BASE64_ALPHABET.length; i++) BASE64_VALUE[BASE64_ALPHABET.charCodeAt(i)] = i;

/** Standard base64 (RFC 4648 section 4, "=" padding) of source[from, to) into target at `at`; returns the new end. */
function decodeBase64(source: Uint8Array, from: number, to: number, target: Uint8Array, at: number): number {
  let bits = 0;
  let count = 0;
  let end = at;
  for (let i = from; i < to; i++) {
    const char = source[i] ?? 0;
    if (char === 0x3d) break; // "="
    const value = BASE64_VALUE[char] ?? 0xff;
    if (value === 0xff) throw new Error(`not base64 at byte ${i}`);
    bits = ((bits << 6) | value) & 0xfff;
    count += 6;
    if (count >= 8) {
      count -= 8;
      target[end++] = (bits >> count) & 0xff;
    }
  }
  return end;
}

/** A token count; `exact` is false when it is an upper bound (BytePairEncoder#count). */
export interface TokenCount {
  tokens: number;
  exact: boolean;
}

/**
 * Steps of work (BytePairEncoder#work), weighted by what each costs: a rank looked up in the 6 MB
 * table eight (it misses the cache), a piece split off by the regex eight, a level of the heap
 * sifted one, sixteen pairs scanned by the short loop one; two-byte ranks come from a small table
 * and cost nothing. Across text of every kind a step then takes 5-40 ns on the development
 * machine (bench/README.md); the weights need only be right within such a factor, since the
 * budget they feed (lib/tokenizer.ts EXACT_COUNT_STEPS) is meant to bound time only that well.
 */
const LOOKUP_STEPS = 8;
const PIECE_STEPS = 8;
const SCANS_PER_STEP_LOG2 = 4;

/** Upper bound on #mergeLong's setup: half a step a byte to rank the pairs, at most two to build the heap. */
const SETUP_STEPS_PER_BYTE = 3;

/** Longest piece whose #mergeLong arrays are kept for the next one (about 1.6 MB of them). */
const REUSED_SCRATCH_BYTES = 65_536;

/** What a merge loop answers when the work passed its limit. */
const GAVE_UP = -1;

export class BytePairEncoder {
  readonly #bytes: Uint8Array;
  readonly #offsets: Uint32Array;
  readonly #slots: Int32Array;
  readonly #mask: number;
  readonly #split: RegExp;
  readonly #utf8 = new TextEncoder();
  readonly #utf8Decoder = new TextDecoder();
  #scratch = new Uint8Array(1024);
  readonly #longestToken: number;
  readonly #pairs: Int32Array;
  /** Highest rank + 1. */
  readonly #rankCount: number;
  #work = 0;
  // Scratch for the merge loops, reused from piece to piece (a piece's bytes are in #scratch).
  readonly #shortStarts = new Int32Array(SHORT_PIECE_BYTES + 1);
  readonly #shortRanks = new Int32Array(SHORT_PIECE_BYTES + 1);
  #long = { next: new Int32Array(0), prev: new Int32Array(0), pairRank: new Int32Array(0), heap: new Float64Array(0) };

  /**
   * @param ranksFile the bytes of a tiktoken ranks file
   * @param split the encoding's pre-tokenisation pattern; must have the `g` flag and never match ""
   */
  constructor(ranksFile: Uint8Array, split: RegExp) {
    if (!split.global) throw new TypeError("the split pattern needs the g flag");
    this.#split = split;
    // Parsed in place, without a string per line, so loading leaves little garbage behind.
    // Base64 never decodes to more bytes than it has characters: the file's size bounds the table.
    const bytes = new Uint8Array(ranksFile.length);
    const starts: number[] = [];
    const ends: number[] = [];
    let used = 0;
    for (let at = 0; at < ranksFile.length; ) {
      let space = at;
      while (space < ranksFile.length && ranksFile[space] !== SPACE) space++;
      let rank = 0;
      let end = space + 1;
      for (; end < ranksFile.length && ranksFile[end] !== NEWLINE; end++) rank = 10 * rank + (ranksFile[end] ?? 0) - DIGIT_0;
      const start = used;
      used = decodeBase64(ranksFile, at, space, bytes, used);
      if (space === at || end === space + 1 || !(rank >= 0 && rank < NO_RANK) || used === start) throw new Error(`bad ranks line at byte ${at}`);
      starts[rank] = start;
      ends[rank] = used;
      at = end + 1;
    }
    this.#bytes = bytes.slice(0, used);
    let longest = 0;
    for (let rank = 0; rank < starts.length; rank++) longest = Math.max(longest, (ends[rank] ?? 0) - (starts[rank] ?? 0));
    this.#longestToken = longest;
    this.#rankCount = starts.length;
    // Every piece starts as single bytes, so most lookups are of two bytes: a direct table
    // (256 KB, which stays in cache) answers them without hashing into the 6 MB one.
    this.#pairs = new Int32Array(65_536).fill(NO_RANK);
    for (let rank = 0; rank < starts.length; rank++) {
      const start = starts[rank];
      if (start !== undefined && ends[rank] === start + 2) this.#pairs[((bytes[start] ?? 0) << 8) | (bytes[start + 1] ?? 0)] = rank;
    }
    this.#offsets = new Uint32Array(2 * starts.length);
    let size = 1;
    while (size < 2 * starts.length) size *= 2;
    this.#slots = new Int32Array(size);
    this.#mask = size - 1;
    for (let rank = 0; rank < starts.length; rank++) {
      const start = starts[rank];
      const end = ends[rank];
      if (start === undefined || end === undefined) continue; // a hole in the ranks
      this.#offsets[2 * rank] = start;
      this.#offsets[2 * rank + 1] = end;
      let slot = this.#hash(this.#bytes, start, end) & this.#mask;
      while (this.#slots[slot] !== 0) slot = (slot + 1) & this.#mask;
      this.#slots[slot] = rank + 1;
    }
  }

  /** Token ids of `text`. */
  encode(text: string): number[] {
    const tokens: number[] = [];
    this.#run(text, tokens, Infinity);
    return tokens;
  }

  /**
   * How many tokens `text` encodes to, spending at most about `budget` steps of work (see
   * `work`). Past the budget the rest of the text counts one token per UTF-8 byte: every token
   * is at least one byte, so the figure can only err high, which is what a worst-case price
   * needs. `exact` says whether the budget sufficed.
   */
  count(text: string, budget: number): TokenCount {
    return this.#run(text, undefined, budget);
  }

  /** Text of token ids; byte sequences that are not UTF-8 come out as U+FFFD. */
  decode(tokens: Iterable<number>): string {
    const parts: Uint8Array[] = [];
    for (const token of tokens) {
      const end = this.#offsets[2 * token + 1];
      if (end === undefined || end === 0) throw new RangeError(`unknown token ${token}`);
      parts.push(this.#bytes.subarray(this.#offsets[2 * token], end));
    }
    return this.#utf8Decoder.decode(Buffer.concat(parts));
  }

  /**
   * Steps of work this encoder has done so far (weighted as LOOKUP_STEPS and its neighbours
   * say). It grows linearly with the bytes encoded, whatever they are, up to a log factor from
   * the heap of the longest piece; test/hostile-input.test.ts holds it to that, which a stopwatch
   * on a shared machine could not.
   */
  get work(): number {
    return this.#work;
  }

  #run(text: string, tokens: number[] | undefined, budget: number): TokenCount {
    const limit = this.#work + budget;
    const split = this.#split;
    let count = 0;
    split.lastIndex = 0;
    for (let match = split.exec(text); match !== null; match = split.exec(text)) {
      this.#work += PIECE_STEPS;
      const n = this.#work > limit ? GAVE_UP : this.#encodePiece(match[0], tokens, limit);
      if (n === GAVE_UP) return { tokens: count + Buffer.byteLength(text.slice(match.index)), exact: false };
      count += n;
    }
    return { tokens: count, exact: true };
  }

  /** Tokens of one pre-tokenised piece (pushed to `tokens` when given); GAVE_UP once the work passes `limit`. */
  #encodePiece(piece: string, tokens: number[] | undefined, limit: number): number {
    const length = this.#toUtf8(piece);
    const bytes = this.#scratch;
    if (length <= this.#longestToken) {
      const whole = this.#rank(bytes, 0, length);
      if (whole !== NO_RANK) {
        tokens?.push(whole);
        return 1;
      }
    }
    return length <= SHORT_PIECE_BYTES ? this.#mergeShort(bytes, length, tokens) : this.#mergeLong(bytes, length, tokens, limit);
  }

  /**
   * tiktoken's loop as written: every merge scans all pairs for the lowest rank and closes the
   * gap, so a piece of n bytes costs O(n^2); for the short pieces ordinary text splits into
   * nothing is cheaper. SHORT_PIECE_BYTES bounds the cost per byte.
   */
  #mergeShort(bytes: Uint8Array, length: number, tokens: number[] | undefined): number {
    // starts[i] is where part i begins (starts[parts] = length); ranks[i] the rank of parts i and i+1 merged.
    const starts = this.#shortStarts;
    const ranks = this.#shortRanks;
    for (let i = 0; i < length; i++) {
      starts[i] = i;
      ranks[i] = i + 1 < length ? this.#rank(bytes, i, i + 2) : NO_RANK;
    }
    starts[length] = length;
    let parts = length;
    while (parts > 1) {
      this.#work += 1 + (parts >> SCANS_PER_STEP_LOG2);
      let min = NO_RANK;
      let at = -1;
      for (let i = 0; i < parts - 1; i++) {
        const rank = ranks[i] ?? NO_RANK;
        if (rank < min) {
          min = rank;
          at = i;
        }
      }
      if (at < 0) break;
      // Part at+1 joins part at: close the gap, then re-rank the merged part with both neighbours.
      for (let i = at + 1; i < parts; i++) {
        starts[i] = starts[i + 1] ?? length;
        ranks[i] = ranks[i + 1] ?? NO_RANK;
      }
      parts--;
      ranks[at] = at + 1 < parts ? this.#rank(bytes, starts[at] ?? 0, starts[at + 2] ?? length) : NO_RANK;
      if (at > 0) ranks[at - 1] = this.#rank(bytes, starts[at - 1] ?? 0, starts[at + 1] ?? length);
    }
    if (tokens !== undefined) for (let i = 0; i < parts; i++) tokens.push(this.#partRank(bytes, starts[i] ?? 0, starts[i + 1] ?? length));
    return parts;
  }

  /**
   * The same merges in the same order in O(n log n): parts form a linked list (a part is named
   * by its first byte) and the mergeable pairs wait in a binary min-heap keyed by
   * rank * length + position. tiktoken merges the lowest-ranked pair and, on a tie, the leftmost
   * one; a part keeps its position when it absorbs its right neighbour, so the key order is
   * exactly that rule and the tokens are exactly tiktoken's (src/lib/tokenizer.test.ts checks long
   * pieces against js-tiktoken). A merge changes two pair ranks; their new keys are pushed and the
   * old ones left behind, recognised as stale when popped (the part's pair rank no longer matches:
   * a pair rank names the pair's bytes, so it changes whenever the pair does). At most one key
   * per byte plus one per merge is ever pushed, so the heap holds at most 2n. With tiktoken's
   * loop one 200 KB word took 15 s (issue 11).
   */
  #mergeLong(bytes: Uint8Array, length: number, tokens: number[] | undefined, limit: number): number {
    // Keys are exact in a double while rank * length + position stays below 2^53.
    if ((this.#rankCount + 1) * length > Number.MAX_SAFE_INTEGER) throw new RangeError(`a piece of ${length} bytes is too long to encode`);
    // Setting up (ranking every pair, building the heap) takes about 2.5 steps a byte and is not
    // interruptible: do not start what the limit would stop half-way.
    if (this.#work + SETUP_STEPS_PER_BYTE * length > limit) return GAVE_UP;
    this.#work += length >> 1;
    const { next, prev, pairRank, heap } = this.#longScratch(length);
    let size = 0;
    for (let i = 0; i < length; i++) {
      next[i] = i + 1;
      prev[i] = i - 1;
      const rank = i + 1 < length ? this.#rank(bytes, i, i + 2) : NO_RANK;
      pairRank[i] = rank;
      if (rank !== NO_RANK) heap[size++] = rank * length + i;
    }
    for (let at = (size >> 1) - 1; at >= 0; at--) this.#work += siftDown(heap, size, at);

    let parts = length;
    while (size > 0) {
      if (this.#work > limit) return GAVE_UP;
      const key = heap[0] ?? 0;
      const last = heap[--size] ?? 0;
      if (size > 0) {
        heap[0] = last;
        this.#work += siftDown(heap, size, 0);
      }
      const rank = Math.floor(key / length);
      const part = key - rank * length;
      if (pairRank[part] !== rank) continue; // stale: the pair changed since this key was pushed
      const gone = next[part] ?? length;
      const after = next[gone] ?? length;
      pairRank[gone] = NO_RANK;
      next[part] = after;
      if (after < length) prev[after] = part;
      parts--;
      const merged = after < length ? this.#rank(bytes, part, next[after] ?? length) : NO_RANK;
      pairRank[part] = merged;
      if (merged !== NO_RANK) {
        heap[size] = merged * length + part;
        this.#work += siftUp(heap, size++);
      }
      const left = prev[part] ?? -1;
      if (left >= 0) {
        const joined = this.#rank(bytes, left, after);
        pairRank[left] = joined;
        if (joined !== NO_RANK) {
          heap[size] = joined * length + left;
          this.#work += siftUp(heap, size++);
        }
      }
    }
    if (tokens !== undefined) for (let part = 0; part < length; part = next[part] ?? length) tokens.push(this.#partRank(bytes, part, next[part] ?? length));
    return parts;
  }

  /** Arrays for #mergeLong: reused up to REUSED_SCRATCH_BYTES, so one huge piece does not pin its arrays for good. */
  #longScratch(length: number): { next: Int32Array; prev: Int32Array; pairRank: Int32Array; heap: Float64Array } {
    if (length > REUSED_SCRATCH_BYTES) return { next: new Int32Array(length), prev: new Int32Array(length), pairRank: new Int32Array(length), heap: new Float64Array(2 * length) };
    if (this.#long.next.length < length) {
      const size = Math.min(REUSED_SCRATCH_BYTES, Math.max(length, 2 * this.#long.next.length));
      this.#long = { next: new Int32Array(size), prev: new Int32Array(size), pairRank: new Int32Array(size), heap: new Float64Array(2 * size) };
    }
    return this.#long;
  }

  #partRank(bytes: Uint8Array, start: number, end: number): number {
    const rank = this.#rank(bytes, start, end);
    if (rank === NO_RANK) throw new Error("byte-pair encoding left a part that is not a token (the ranks lack a single byte)");
    return rank;
  }

  /** UTF-8 of `text` into the scratch buffer; its length in bytes. */
  #toUtf8(text: string): number {
    if (this.#scratch.length < 3 * text.length) this.#scratch = new Uint8Array(3 * text.length);
    const scratch = this.#scratch;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) return this.#utf8.encodeInto(text, scratch).written;
      scratch[i] = code;
    }
    return text.length;
  }

  #rank(bytes: Uint8Array, start: number, end: number): number {
    if (end - start === 2) return this.#pairs[((bytes[start] ?? 0) << 8) | (bytes[start + 1] ?? 0)] ?? NO_RANK;
    this.#work += LOOKUP_STEPS;
    const table = this.#bytes;
    const offsets = this.#offsets;
    const length = end - start;
    for (let slot = this.#hash(bytes, start, end) & this.#mask; ; slot = (slot + 1) & this.#mask) {
      const entry = this.#slots[slot] ?? 0;
      if (entry === 0) return NO_RANK;
      const from = offsets[2 * (entry - 1)] ?? 0;
      if ((offsets[2 * (entry - 1) + 1] ?? 0) - from !== length) continue;
      let i = 0;
      while (i < length && table[from + i] === bytes[start + i]) i++;
      if (i === length) return entry - 1;
    }
  }

  #hash(bytes: Uint8Array, start: number, end: number): number {
    let hash = FNV_OFFSET;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ (bytes[i] ?? 0), FNV_PRIME);
    return hash >>> 0;
  }
}

/** Restores the min-heap below `at` after heap[at] grew; returns the levels visited. */
function siftDown(heap: Float64Array, size: number, at: number): number {
  const key = heap[at] ?? 0;
  let levels = 1;
  for (let child = 2 * at + 1; child < size; child = 2 * at + 1, levels++) {
    if (child + 1 < size && (heap[child + 1] ?? 0) < (heap[child] ?? 0)) child++;
    const below = heap[child] ?? 0;
    if (below >= key) break;
    heap[at] = below;
    at = child;
  }
  heap[at] = key;
  return levels;
}

/** Restores the min-heap above `at` after heap[at] was added; returns the levels visited. */
function siftUp(heap: Float64Array, at: number): number {
  const key = heap[at] ?? 0;
  let levels = 1;
  for (; at > 0; levels++) {
    const parent = (at - 1) >> 1;
    const above = heap[parent] ?? 0;
    if (above <= key) break;
    heap[at] = above;
    at = parent;
  }
  heap[at] = key;
  return levels;
}
