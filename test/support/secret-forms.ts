// The forms a secret can take in a message, and an oracle that finds any of them (or a piece
// of MIN_FRAGMENT_CHARS or more) in redacted text. The oracle decodes what it finds (every
// base64 run at every offset, every hex run at both offsets, percent and JSON escapes) rather
// than encoding the secret the way lambda/redact.ts does, so the two do not share a mistake.
import fc from 'fast-check';

/** The piece length the redaction promises to remove (lambda/redact.ts). */
export const THRESHOLD = 12;

const IAM_PASSWORD_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=';

/** IAM's service password alphabet, 20-80 characters. */
export const iamPassword = fc.string({
  unit: fc.constantFrom(...IAM_PASSWORD_CHARS),
  minLength: 20,
  maxLength: 80,
});
/** A Bedrock-style long-term API key: `ABSK` + base64 of 96 random bytes. */
export const bedrockKey = fc
  .uint8Array({ minLength: 96, maxLength: 96 })
  .map((b) => `ABSK${Buffer.from(b).toString('base64')}`);
/** Any printable ASCII (spaces, quotes, `%`, backslashes): the escapes all have work to do. */
export const printableSecret = fc.string({ minLength: 20, maxLength: 80 });
export const anySecret = fc.oneof(iamPassword, bedrockKey, printableSecret);

const b64 = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64');
const url = (s: string) => s.replace(/\+/g, '-').replace(/\//g, '_');
const lowerPercent = (s: string) => s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());

/** Encoders of a secret (or a piece of it) that some library or service could write. */
export const ENCODINGS: Readonly<Record<string, (s: string) => string>> = {
  raw: (s) => s,
  'JSON-escaped': (s) => JSON.stringify(s).slice(1, -1),
  'JSON-escaped with \\/': (s) => JSON.stringify(s).slice(1, -1).replace(/\//g, '\\/'),
  'JSON \\u-escaped (upper case)': (s) =>
    [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`).join(''),
  'URL-encoded, upper-case hex': (s) => encodeURIComponent(s),
  'URL-encoded, lower-case hex': (s) => lowerPercent(encodeURIComponent(s)),
  'form-encoded (+ for space)': (s) => new URLSearchParams({ v: s }).toString().slice(2),
  'form-encoded, lower-case hex': (s) => lowerPercent(new URLSearchParams({ v: s }).toString().slice(2)),
  base64: (s) => b64(s),
  'base64 without padding': (s) => b64(s).replace(/=+$/, ''),
  base64url: (s) => url(b64(s)),
  'base64url without padding': (s) => url(b64(s)).replace(/=+$/, ''),
  'hex, lower case': (s) => Buffer.from(s).toString('hex'),
  'hex, upper case': (s) => Buffer.from(s).toString('hex').toUpperCase(),
  'in a Basic token': (s) => b64(`app-at-123456789012:${s}`),
  'base64 at byte offset 1 of a longer string': (s) =>
    b64(Buffer.concat([Buffer.from('x'), Buffer.from(s), Buffer.from('tail')])),
  'base64 at byte offset 2 of a longer string': (s) =>
    b64(Buffer.concat([Buffer.from('xy'), Buffer.from(s), Buffer.from('tail')])),
  'base64url at byte offset 1 of a longer string': (s) => url(b64(`q${s}!`)),
  'URL-encoded base64': (s) => encodeURIComponent(b64(`a:${s}`)),
};

/** A message around an encoded secret, a piece of it, or the secret inside random bytes in base64. */
export const leakyMessage = fc
  .record({
    secret: anySecret,
    encoding: fc.constantFrom(...Object.keys(ENCODINGS)),
    before: fc.string({ maxLength: 120 }),
    after: fc.string({ maxLength: 120 }),
    cut: fc.record({ start: fc.nat(), length: fc.nat() }),
    whole: fc.boolean(),
    padding: fc.record({
      before: fc.uint8Array({ maxLength: 5 }),
      after: fc.uint8Array({ maxLength: 5 }),
    }),
    inBase64Stream: fc.boolean(),
  })
  .map(({ secret, encoding, before, after, cut, whole, padding, inBase64Stream }) => {
    // A piece of at least THRESHOLD characters, anywhere in the secret.
    const length = THRESHOLD + (cut.length % (secret.length - THRESHOLD + 1));
    const start = cut.start % (secret.length - length + 1);
    const shown = whole ? secret : secret.slice(start, start + length);
    const encoded = inBase64Stream
      ? b64(Buffer.concat([Buffer.from(padding.before), Buffer.from(shown), Buffer.from(padding.after)]))
      : (ENCODINGS[encoding] as (s: string) => string)(shown);
    return {
      secret,
      encoding: inBase64Stream ? 'inside random bytes, base64' : encoding,
      message: `${before}${encoded}${after}`,
    };
  });

/** The secret's pieces the oracle looks for: every THRESHOLD window (or the whole, if shorter). */
function pieces(secret: string): string[] {
  if (secret.length < THRESHOLD) return [secret];
  const out: string[] = [];
  for (let i = 0; i + THRESHOLD <= secret.length; i++) out.push(secret.slice(i, i + THRESHOLD));
  return out;
}

const percentDecoded = (s: string, plus: boolean) =>
  (plus ? s.replace(/\+/g, ' ') : s).replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) =>
    String.fromCharCode(Number.parseInt(h, 16)),
  );
const jsonDecoded = (s: string) =>
  s
    .replace(/\\u([0-9A-Fa-f]{4})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)))
    .replace(/\\(["\\/])/g, '$1');

/** Every way of reading `text` the oracle tries: as is, unescaped, and every base64 and hex run decoded. */
function readings(text: string): string[] {
  const plain = [
    text,
    percentDecoded(text, false),
    percentDecoded(text, true),
    jsonDecoded(text),
    jsonDecoded(percentDecoded(text, false)),
  ];
  const out = [...plain];
  for (const p of plain) {
    for (const run of p.match(/[A-Za-z0-9+/_-]{8,}/g) ?? []) {
      const std = run.replace(/-/g, '+').replace(/_/g, '/');
      for (let offset = 0; offset < 4; offset++) {
        // Node decodes a last, unpadded quantum too (a piece at the end of a run).
        out.push(Buffer.from(std.slice(offset), 'base64').toString('latin1'));
      }
    }
    for (const run of p.match(/[0-9A-Fa-f]{8,}/g) ?? []) {
      for (let offset = 0; offset < 2; offset++) {
        out.push(Buffer.from(run.slice(offset), 'hex').toString('latin1'));
      }
    }
  }
  return out;
}

/** The names of the secret forms still readable in `text` (empty: none). */
export function leaksIn(text: string, secret: string): string[] {
  const found = new Set<string>();
  const wanted = pieces(secret);
  for (const reading of readings(text)) {
    for (const piece of wanted) {
      if (reading.includes(piece))
        found.add(secret.length < THRESHOLD ? 'the secret' : `a ${THRESHOLD}-character piece`);
    }
  }
  // Whole encodings of short secrets (no pieces) are checked by encoding them.
  for (const [name, encode] of Object.entries(ENCODINGS)) {
    if (text.includes(encode(secret))) found.add(`the secret ${name}`);
  }
  return [...found];
}
