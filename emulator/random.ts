// Random identifiers and secrets, all from crypto randomness.
import { randomBytes, randomInt, randomUUID } from 'node:crypto';

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const PASSWORD_CHARS = `${ALNUM}+/=`;

export function randomFrom(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

export const upperAlnum = (length: number): string => randomFrom(UPPER_ALNUM, length);
export const alnum = (length: number): string => randomFrom(ALNUM, length);
/** 60 chars of [A-Za-z0-9+/=], like IAM's service passwords. */
export const servicePassword = (): string => randomFrom(PASSWORD_CHARS, 60);
/** A Bedrock-style long-term API key: `ABSK` + base64. */
export const apiKey = (): string => `ABSK${randomBytes(96).toString('base64')}`;
export const uuid = (): string => randomUUID();
