/**
 * A byte-pair encoder over a tiktoken ranks file (one `base64(token bytes) rank` per line), kept
 * compact: every token's bytes in one Uint8Array, their offsets by rank in a Uint32Array, and an
 * open-addressing hash table (FNV-1a over the bytes, linear probing) from bytes to rank in an
 * Int32Array. For o200k's 200k tokens that is about 6 MB, where a JavaScript Map of strings plus
 * the array literal it is built from cost about 60 MB of RSS (bench/README.md).
 *
 * The merge loop is tiktoken's `byte_pair_merge` (openai/tiktoken src/lib.rs): rank every
 * adjacent pair, repeatedly merge the lowest-ranked pair (the first one on ties), re-ranking only
 * its two neighbours. Special tokens are not recognised: their text is encoded as text.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const NO_RANK = 0x7fffffff;
const SPACE = 0x20;
const NEWLINE = 0x0a;
const DIGIT_0 = 0x30;
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

export class BytePairEncoder {
  readonly #bytes: Uint8Array;
  readonly #offsets: Uint32Array;
  readonly #slots: Int32Array;
  readonly #mask: number;
  readonly #split: RegExp;
  readonly #utf8 = new TextEncoder();
  readonly #utf8Decoder = new TextDecoder();
  #scratch = new Uint8Array(1024);

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
    const split = this.#split;
    split.lastIndex = 0;
    for (let match = split.exec(text); match !== null; match = split.exec(text)) this.#encodePiece(match[0], tokens);
    return tokens;
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

  #encodePiece(piece: string, tokens: number[]): void {
    const length = this.#toUtf8(piece);
    const bytes = this.#scratch;
    const whole = this.#rank(bytes, 0, length);
    if (whole !== NO_RANK) {
      tokens.push(whole);
      return;
    }
    // starts[i] is where part i begins; ranks[i] the rank of parts i and i+1 merged.
    const starts: number[] = [];
    const ranks: number[] = [];
    for (let i = 0; i < length - 1; i++) {
      starts.push(i);
      ranks.push(this.#rank(bytes, i, i + 2));
    }
    starts.push(length - 1, length);
    ranks.push(NO_RANK, NO_RANK);
    while (starts.length > 1) {
      let min = NO_RANK;
      let at = 0;
      for (let i = 0; i < ranks.length - 1; i++) {
        const rank = ranks[i] ?? NO_RANK;
        if (rank < min) {
          min = rank;
          at = i;
        }
      }
      if (min === NO_RANK) break;
      // Re-rank the merged part with its neighbours (parts at-1..at+1 and at..at+2 once at+1 is gone).
      if (at > 0) ranks[at - 1] = this.#spanRank(bytes, starts, at - 1);
      ranks[at] = this.#spanRank(bytes, starts, at);
      starts.splice(at + 1, 1);
      ranks.splice(at + 1, 1);
    }
    for (let i = 0; i < starts.length - 1; i++) {
      const rank = this.#rank(bytes, starts[i] ?? 0, starts[i + 1] ?? 0);
      if (rank === NO_RANK) throw new Error("byte-pair encoding left a part that is not a token (the ranks lack a single byte)");
      tokens.push(rank);
    }
  }

  /** Rank of parts i, i+1 and i+2 taken together (the bytes from starts[i] to starts[i + 3]). */
  #spanRank(bytes: Uint8Array, starts: number[], i: number): number {
    return i + 3 < starts.length ? this.#rank(bytes, starts[i] ?? 0, starts[i + 3] ?? 0) : NO_RANK;
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
