// Removes secrets (passwords, API keys, serialized records) from text before it leaves the
// function: probe reasons, translated AWS errors. One module for every site, so every site
// gets the same coverage, and truncation only ever runs on text that was redacted first
// (cutting first can leave a piece of a secret that no longer matches the whole).
//
// What is removed, for each secret:
// - the secret as is, and any piece of it of MIN_FRAGMENT_CHARS or more (a message cut
//   anywhere, or a library quoting part of a request);
// - the same inside percent-encoding (either hex case, `+` for a space, any subset of the
//   characters encoded) and inside JSON string escaping (`\"`, `\/`, `\u002B`...), by
//   decoding the text into views that map back to the original positions;
// - base64 and base64url of the secret (with and without padding) and of its pieces, also
//   inside a longer base64 string (a Basic `user:password` token): a byte string starting at
//   byte offset 0, 1 or 2 of a base64 stream gives three different encodings, so each piece
//   is encoded at all three alignments and only the characters that depend on the piece
//   alone are looked for;
// - hex of the secret and its pieces, either case.
// Encodings are searched for in the decoded views too (base64 that was then URL-encoded).
// Dependency-free; per character of each view, one Set lookup per pattern length (a dozen or
// so): secrets are ~60-130 characters and messages short (a 200-character message with a
// 60-character secret takes well under 2 ms, patterns included).
import { Buffer } from 'node:buffer';

/**
 * The shortest piece of a secret that is removed on its own: 12 characters. IAM passwords
 * and Bedrock keys draw from 64 symbols, so 12 characters are 72 bits: the chance that
 * innocent text holds one of a 60-character secret's 49 windows of that length is about
 * 49 / 2^72 per position, and a 12-character piece alone leaves the other 48 characters
 * (288 bits) to guess. Much shorter pieces (4-6 characters) would remove ordinary words
 * and numbers from messages; much longer ones would let a message show a fifth of the
 * secret before anything is removed.
 */
export const MIN_FRAGMENT_CHARS = 12;

/** What stands where a secret was. */
export const REDACTION_MARK = '[redacted]';

declare const REDACTED: unique symbol;
/** Text that has passed through {@link redact}: the only text {@link cutRedacted} accepts. */
export type Redacted = string & { readonly [REDACTED]: true };

/**
 * Removes every secret (and its pieces) and every whole value (without pieces) from `text`,
 * in the encodings listed above. `wholes` are values that are sensitive as a whole but mostly
 * made of innocent text (a serialized record: ids, names and dates around the password),
 * whose pieces would remove innocent text; the secrets inside them are given as `secrets`.
 */
export function redact(
  text: string,
  secrets: readonly (string | undefined)[],
  wholes: readonly (string | undefined)[] = [],
): Redacted {
  const patterns = new Patterns();
  for (const secret of secrets) if (secret) patterns.addSecret(secret, true);
  for (const whole of wholes) if (whole) patterns.addSecret(whole, false);
  if (patterns.empty()) return text as Redacted;

  const ranges: [number, number][] = [];
  for (const view of viewsOf(text)) patterns.find(view, ranges);
  return replaceRanges(text, ranges) as Redacted;
}

/**
 * How many secrets the process keeps in hand for {@link redactHeld}: a run's worth (a bulk
 * read holds every current value it read). Past it the older half is dropped: an error is
 * raised while its own secrets are recent.
 */
export const HELD_LIMIT = 4096;
let held: string[] = [];
let heldSet = new Set<string>();
let heldPatterns: Patterns | undefined;

/**
 * Keeps secrets the process handles (issued passwords and API keys, values read from the
 * secrets) so that text whose origin knows none of them (an error from a library, a log of a
 * foreign failure) can still be redacted: {@link redactHeld}. Patterns grow as secrets come.
 */
export function holdSecrets(values: readonly (string | undefined)[]): void {
  for (const value of values) {
    if (!value || heldSet.has(value)) continue;
    held.push(value);
    heldSet.add(value);
    heldPatterns?.addSecret(value, true);
  }
  if (held.length > HELD_LIMIT) {
    held = held.slice(-HELD_LIMIT / 2);
    heldSet = new Set(held);
    heldPatterns = undefined;
  }
}

/**
 * {@link redact} with every secret in hand ({@link holdSecrets}), for text that came from
 * outside the product (an unknown error's message): whatever it quotes, in any form or piece
 * the redaction covers, is removed.
 */
export function redactHeld(text: string): Redacted {
  if (held.length === 0) return text as Redacted;
  if (!heldPatterns) {
    heldPatterns = new Patterns();
    for (const secret of held) heldPatterns.addSecret(secret, true);
  }
  const ranges: [number, number][] = [];
  for (const view of viewsOf(text)) heldPatterns.find(view, ranges);
  return replaceRanges(text, ranges) as Redacted;
}

/** Shortens redacted text to at most `max` characters (plus `...`); never runs before redaction. */
export function cutRedacted(text: Redacted, max: number): Redacted {
  return (text.length > max ? `${text.slice(0, max)}...` : text) as Redacted;
}

/** The patterns one redaction looks for, by the view they are matched in. */
class Patterns {
  /** Case-sensitive pieces, by length (a Set lookup per position and length). */
  readonly #pieces = new Map<number, Set<string>>();
  /** Lower-case hex pieces, matched in a view whose A-F are folded to a-f. */
  readonly #hexPieces = new Map<number, Set<string>>();

  empty(): boolean {
    return this.#pieces.size === 0 && this.#hexPieces.size === 0;
  }

  addSecret(value: string, withPieces: boolean): void {
    // Decoded views hold bytes (a %xx is one byte), the raw text holds UTF-16: both forms.
    const bytes = Buffer.from(value, 'utf8').toString('latin1');
    const long = withPieces && value.length >= MIN_FRAGMENT_CHARS;
    for (const piece of long ? windows(value) : [value]) add(this.#pieces, piece);
    for (const piece of long ? windows(bytes) : [bytes]) {
      add(this.#pieces, piece);
      add(this.#hexPieces, Buffer.from(piece, 'latin1').toString('hex'));
      // Short values only whole (padded or not): their cores would be a few characters.
      if (piece.length < MIN_FRAGMENT_CHARS) continue;
      for (const offset of [0, 1, 2]) {
        const core = base64Core(piece, offset);
        add(this.#pieces, core);
        add(this.#pieces, toBase64Url(core));
      }
    }
    const base64 = Buffer.from(bytes, 'latin1').toString('base64');
    for (const form of [base64, base64.replace(/=+$/, '')]) {
      add(this.#pieces, form);
      add(this.#pieces, toBase64Url(form));
    }
  }

  /** Adds the original ranges of every match in `view` to `ranges`. */
  find(view: View, ranges: [number, number][]): void {
    match(view, view.text, this.#pieces, ranges);
    match(
      view,
      view.text.replace(/[A-F]/g, (c) => c.toLowerCase()),
      this.#hexPieces,
      ranges,
    );
  }
}

function add(byLength: Map<number, Set<string>>, piece: string): void {
  if (piece.length === 0) return;
  const set = byLength.get(piece.length);
  if (set) set.add(piece);
  else byLength.set(piece.length, new Set([piece]));
}

function windows(value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + MIN_FRAGMENT_CHARS <= value.length; i++)
    out.push(value.slice(i, i + MIN_FRAGMENT_CHARS));
  return out;
}

/**
 * The base64 characters of `bytes` (a latin1 string) that depend on it alone when it starts
 * `offset` bytes into a base64 stream: character j covers bits 6j..6j+5, the bytes cover bits
 * 8*offset..8*(offset+n)-1, so the characters from ceil(8*offset/6) to before
 * floor(8*(offset+n)/6). The one or two characters at each end mix in the neighbours' bits.
 */
function base64Core(bytes: string, offset: number): string {
  const encoded = Buffer.from('\0'.repeat(offset) + bytes, 'latin1').toString('base64');
  return encoded.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6));
}

function toBase64Url(base64: string): string {
  return base64.replace(/\+/g, '-').replace(/\//g, '_');
}

function match(
  view: View,
  text: string,
  byLength: Map<number, Set<string>>,
  ranges: [number, number][],
): void {
  for (const [length, set] of byLength) {
    for (let i = 0; i + length <= text.length; i++) {
      if (set.has(text.slice(i, i + length))) ranges.push(view.original(i, i + length));
    }
  }
}

/** The text, or a decoding of it, with the way back to the original's positions. */
interface View {
  readonly text: string;
  /** The original range of the view's characters [from, to). */
  original(from: number, to: number): [number, number];
}

function rawView(text: string): View {
  return { text, original: (from, to) => [from, to] };
}

/** A decoding of `parent`: each character knows the parent range it came from. */
function decodedView(parent: View, text: string, starts: number[], ends: number[]): View {
  return {
    text,
    original: (from, to) => [
      parent.original(starts[from] as number, (starts[from] as number) + 1)[0],
      parent.original((ends[to - 1] as number) - 1, ends[to - 1] as number)[1],
    ],
  };
}

type Decoder = (parent: View) => View | undefined;

/** `%2F` or `%2f` -> one byte; with `plusIsSpace`, `+` -> space (form encoding). */
const percentDecoder =
  (plusIsSpace: boolean): Decoder =>
  (parent) => {
    const s = parent.text;
    if (!s.includes('%') && !(plusIsSpace && s.includes('+'))) return undefined;
    let text = '';
    const starts: number[] = [];
    const ends: number[] = [];
    for (let i = 0; i < s.length; ) {
      const hex = s[i] === '%' ? s.slice(i + 1, i + 3) : '';
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        text += String.fromCharCode(Number.parseInt(hex, 16));
        starts.push(i);
        ends.push(i + 3);
        i += 3;
      } else {
        text += plusIsSpace && s[i] === '+' ? ' ' : s[i];
        starts.push(i);
        ends.push(i + 1);
        i += 1;
      }
    }
    return decodedView(parent, text, starts, ends);
  };

const JSON_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/** JSON string escapes (`\"`, `\/`, `\u002B` in either case) -> the character. */
const jsonDecoder: Decoder = (parent) => {
  const s = parent.text;
  if (!s.includes('\\')) return undefined;
  let text = '';
  const starts: number[] = [];
  const ends: number[] = [];
  for (let i = 0; i < s.length; ) {
    const next = s[i + 1] ?? '';
    const unicode = s[i] === '\\' && next === 'u' ? s.slice(i + 2, i + 6) : '';
    starts.push(i);
    if (/^[0-9A-Fa-f]{4}$/.test(unicode)) {
      text += String.fromCharCode(Number.parseInt(unicode, 16));
      i += 6;
    } else if (s[i] === '\\' && Object.hasOwn(JSON_ESCAPES, next)) {
      text += JSON_ESCAPES[next];
      i += 2;
    } else {
      text += s[i];
      i += 1;
    }
    ends.push(i);
  }
  return decodedView(parent, text, starts, ends);
};

const DECODERS: readonly Decoder[] = [percentDecoder(false), percentDecoder(true), jsonDecoder];

/**
 * The raw text and its decodings, two levels deep (a JSON string inside JSON, a URL-encoded
 * JSON value): enough for what a library quotes; each level only where the text has escapes.
 */
function viewsOf(text: string): View[] {
  const raw = rawView(text);
  const views = [raw];
  // A decoding that changes nothing (no `+` to read as a space) repeats a view: skipped.
  const seen = new Set([text]);
  const keep = (view: View | undefined) => {
    if (!view || seen.has(view.text)) return undefined;
    seen.add(view.text);
    views.push(view);
    return view;
  };
  for (const first of DECODERS) {
    const once = keep(first(raw));
    if (once) for (const second of DECODERS) keep(second(once));
  }
  return views;
}

function replaceRanges(text: string, ranges: [number, number][]): string {
  if (ranges.length === 0) return text;
  ranges.sort((a, b) => a[0] - b[0]);
  let out = '';
  let at = 0;
  let [start, end] = ranges[0] as [number, number];
  for (const [from, to] of ranges) {
    if (from <= end) {
      end = Math.max(end, to);
      continue;
    }
    out += text.slice(at, start) + REDACTION_MARK;
    at = end;
    [start, end] = [from, to];
  }
  return out + text.slice(at, start) + REDACTION_MARK + text.slice(end);
}
