// redactSecret: the last line of defence for text a library wrote. Every encoding in
// ENCODINGS, pieces of 12 characters or more, and a property over random secrets and messages.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactSecret } from '../../lambda/probes/index.ts';
import { anySecret, ENCODINGS, leaksIn, leakyMessage, THRESHOLD } from '../support/secret-forms.ts';

describe('redactSecret', () => {
  const credential = { serviceUserName: 'app-at-123456789012', secret: 'p@ss "w/ord"+= with/Slash+Plus=' };
  const password = {
    serviceUserName: 'app-at-123456789012',
    secret: 'Zx9/+aLongPasswordThatMust+NotLeak/=AbC',
  };
  const apiKey = {
    secret: `ABSK${Buffer.from(Array.from({ length: 96 }, (_, i) => (i * 37 + 11) % 256)).toString('base64')}`,
  };

  it.each(Object.keys(ENCODINGS))('removes the secret %s', (name) => {
    const encode = ENCODINGS[name] as (s: string) => string;
    for (const c of [credential, password, apiKey]) {
      const out = redactSecret(`failed with ${encode(c.secret)} inside`, c);
      expect(leaksIn(out, c.secret), `${name}: ${out}`).toEqual([]);
      expect(out).toMatch(/^failed with .*\[redacted\].* inside$/);
    }
  });

  it.each(Object.keys(ENCODINGS))(`removes a ${THRESHOLD}-character piece %s`, (name) => {
    const encode = ENCODINGS[name] as (s: string) => string;
    const piece = password.secret.slice(7, 7 + THRESHOLD);
    const out = redactSecret(`cut: ${encode(piece)}`, password);
    expect(leaksIn(out, password.secret), `${name}: ${out}`).toEqual([]);
  });

  it('removes the piece of 12+ characters a message cut elsewhere still holds', () => {
    // (A cut leaving fewer than 12 is why every site redacts first and cuts after: cut.test.ts.)
    const message = `${'x'.repeat(186)}${password.secret}`.slice(0, 200);
    expect(redactSecret(message, password)).toBe(`${'x'.repeat(186)}[redacted]`);
  });

  it('keeps a piece shorter than the threshold (innocent text must not be eaten)', () => {
    const piece = password.secret.slice(0, THRESHOLD - 1);
    expect(redactSecret(`id ${piece}`, password)).toBe(`id ${piece}`);
  });

  it('property: no encoding of a random secret, and no piece of 12+ characters, survives', () => {
    fc.assert(
      fc.property(leakyMessage, ({ secret, message }) => {
        const out = redactSecret(message, { serviceUserName: 'app-at-123456789012', secret });
        expect(leaksIn(out, secret)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('leaves text without the secret alone', () => {
    for (const text of [
      'ECONNREFUSED',
      'CodeCommit repository my-repo in us-east-1: getaddrinfo ENOTFOUND git-codecommit.us-east-1.amazonaws.com',
      'request id 6f1c2a3b-4d5e-6f70-8192-a3b4c5d6e7f8, body {"message":"User: arn:aws:iam::123456789012:user/app"}',
      `sha256 ${'0123456789abcdef'.repeat(4)} and base64 ${Buffer.from('some innocent payload text').toString('base64')}`,
      'percent %2F%2b and escapes \\u002B \\" \\/ stay as they were',
    ]) {
      expect(redactSecret(text, password)).toBe(text);
      expect(redactSecret(text, apiKey)).toBe(text);
    }
  });

  it('property: innocent text passes through unchanged', () => {
    fc.assert(
      fc.property(
        anySecret,
        fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 100 })),
        (secret, text) => {
          // A random message holding a piece of a random secret is astronomically unlikely.
          fc.pre(leaksIn(text, secret).length === 0);
          expect(redactSecret(text, { secret })).toBe(text);
        },
      ),
      { numRuns: 300 },
    );
  });
});
