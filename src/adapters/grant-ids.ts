import { randomInt } from 'node:crypto';

/** No 0/o, 1/l/i: ids are read aloud and typed into `/access done <id>`. */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Short random grant ids; the store refuses a taken id and the caller draws again. */
export function newGrantId(length = 6): string {
  let id = '';
  for (let i = 0; i < length; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}
