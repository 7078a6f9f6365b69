/**
 * The words of a text, as the task classifier reads them: runs of letters and digits, with one
 * apostrophe and the letters after it kept ("don't", "l'homme", "90's"). The same split as
 * /[\p{L}\p{N}]+(?:['’]\p{L}+)?/gu (a test holds the two equal), scanned by hand because
 * matchAll allocates a match object per word, and the classifier reads a few hundred words on
 * every request.
 */
export function forEachWord(text: string, visit: (word: string) => void): void {
  const length = text.length;
  let at = 0;
  while (at < length) {
    const code = text.codePointAt(at) ?? 0;
    if (!isLetterOrNumber(code)) {
      at += width(code);
      continue;
    }
    const start = at;
    at += width(code);
    while (at < length) {
      const next = text.codePointAt(at) ?? 0;
      if (!isLetterOrNumber(next)) break;
      at += width(next);
    }
    const mark = text.charCodeAt(at);
    if (mark === 0x27 || mark === 0x2019) {
      let end = at + 1;
      while (end < length) {
        const next = text.codePointAt(end) ?? 0;
        if (!isLetter(next)) break;
        end += width(next);
      }
      if (end > at + 1) at = end;
    }
    visit(text.slice(start, at));
  }
}

const LETTER_OR_NUMBER = /^[\p{L}\p{N}]$/u;
const LETTER = /^\p{L}$/u;

function isLetterOrNumber(code: number): boolean {
  if (code < 0x80) return (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a);
  return LETTER_OR_NUMBER.test(String.fromCodePoint(code));
}

function isLetter(code: number): boolean {
  if (code < 0x80) return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a);
  return LETTER.test(String.fromCodePoint(code));
}

function width(code: number): number {
  return code > 0xffff ? 2 : 1;
}
