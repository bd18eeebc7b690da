/**
 * A small seeded PRNG (mulberry32) and random-string makers for the generated tests, so a failure found by one
 * run is found again by the next: the seed is printed in the test names.
 */
export type Random = () => number;

export function seeded(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(rnd: Random, items: readonly T[]): T {
  return items[Math.floor(rnd() * items.length)] as T;
}

export function int(rnd: Random, min: number, max: number): number {
  return min + Math.floor(rnd() * (max - min + 1));
}

/** Character pools that tend to find parser bugs: separators, shell syntax, controls, non-ASCII, surrogates. */
export const POOLS: readonly string[] = [
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
  '0123456789',
  './-_:,%@+=',
  ' ;&|$`\'"\\<>(){}[]*?!#~',
  '\u0000\t\n\r\u001b\u007f',
  'éßΩ中\u00a0\u0085\u009b\u200b\u2028\ufeff',
  '\ud83d\ude00\ud800\udfff',
];

export function randomString(rnd: Random, maxLength: number, pools: readonly string[] = POOLS): string {
  const length = int(rnd, 0, maxLength);
  let s = '';
  for (let i = 0; i < length; i += 1) {
    const pool = pick(rnd, pools);
    s += pool.charAt(int(rnd, 0, pool.length - 1));
  }
  return s;
}

/** A few random edits (insert, delete, replace) of a valid value: mostly near-misses of the real syntax. */
export function mutate(rnd: Random, value: string, pools: readonly string[] = POOLS): string {
  let s = value;
  for (let n = int(rnd, 1, 3); n > 0; n -= 1) {
    const at = int(rnd, 0, s.length);
    const ch = randomString(rnd, 1, pools) || 'x';
    switch (int(rnd, 0, 2)) {
      case 0: s = s.slice(0, at) + ch + s.slice(at); break;
      case 1: s = s.slice(0, at) + s.slice(at + 1); break;
      default: s = s.slice(0, at) + ch + s.slice(at + 1);
    }
  }
  return s;
}
