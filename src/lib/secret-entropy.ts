/**
 * An estimate of a secret's entropy in bits: the Shannon entropy of its own character
 * frequencies times its length. It can only catch the obvious (one character repeated, a short
 * cycle such as `abababab`); a dictionary phrase scores like random text, so it is a floor under
 * carelessness, not a strength meter. 16 random hex characters score about 51 bits (99.9% of
 * them above 40), 64 (`openssl rand -hex 32`) about 245.
 */
export function estimatedEntropyBits(secret: string): number {
  const chars = [...secret];
  const counts = new Map<string, number>();
  for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1);
  let perChar = 0;
  for (const n of counts.values()) {
    const p = n / chars.length;
    perChar -= p * Math.log2(p);
  }
  return perChar * chars.length;
}
