// The redaction module itself: what it removes, what it leaves, and that cutting comes after.
// The encodings and the property tests over random secrets are in test/probes/redact.test.ts
// (through redactSecret) and test/aws/errors.test.ts (through translateAwsError).
import { describe, expect, it } from 'vitest';
import { cutRedacted, MIN_FRAGMENT_CHARS, REDACTION_MARK, redact } from '../lambda/redact.ts';
import { leaksIn } from './support/secret-forms.ts';

const password = 'Zx9/+aLongPasswordThatMust+NotLeak/=AbCdEfGhIjKlMnOpQrStUvWx';
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

describe('redact', () => {
  it('the threshold is 12 characters (docs/SECURITY.md explains the choice)', () => {
    expect(MIN_FRAGMENT_CHARS).toBe(12);
    expect(redact(`a ${password.slice(3, 15)} b`, [password])).toBe(`a ${REDACTION_MARK} b`);
    expect(redact(`a ${password.slice(3, 14)} b`, [password])).toBe(`a ${password.slice(3, 14)} b`);
  });

  it.each([0, 1, 2, 3, 4, 5])(
    'finds the secret inside a longer base64 string, %i bytes in (all three alignments)',
    (offset) => {
      const stream = b64(
        Buffer.concat([Buffer.alloc(offset, 0x41), Buffer.from(password), Buffer.from('!tail')]),
      );
      const out = redact(`token ${stream} end`, [password]);
      expect(leaksIn(out, password)).toEqual([]);
      expect(out).toMatch(/^token \S*\[redacted\]\S* end$/);
    },
  );

  it('finds a URL-encoded secret with mixed-case escapes and only some characters encoded', () => {
    const mixed = password.replace(/\//g, '%2f').replace(/\+/g, '%2B');
    expect(redact(`url ${mixed} end`, [password])).toBe(`url ${REDACTION_MARK} end`);
  });

  it('finds hex with mixed case', () => {
    const hex = Buffer.from(password)
      .toString('hex')
      .replace(/[a-f]/g, (c, i: number) => (i % 3 === 0 ? c.toUpperCase() : c));
    expect(redact(`hex ${hex} end`, [password])).toBe(`hex ${REDACTION_MARK} end`);
  });

  it('finds a secret in JSON inside JSON (escaped twice)', () => {
    const twice = JSON.stringify(JSON.stringify({ password }));
    expect(leaksIn(redact(twice, [password]), password)).toEqual([]);
  });

  it('removes a whole value in every form but not its pieces', () => {
    const record = JSON.stringify({ userName: 'app', serviceName: 'cassandra.amazonaws.com', password });
    expect(redact(`put ${record}`, [], [record])).toBe(`put ${REDACTION_MARK}`);
    expect(redact(`put ${encodeURIComponent(record)}`, [], [record])).toBe(`put ${REDACTION_MARK}`);
    expect(redact(`put ${b64(record)}`, [], [record])).toBe(`put ${REDACTION_MARK}`);
    // A piece of the record that is not the secret stays: it is what tells operators which call.
    expect(redact('service cassandra.amazonaws.com', [], [record])).toBe('service cassandra.amazonaws.com');
  });

  it('removes short secrets whole only', () => {
    expect(redact('pw hunter2 and base64 aHVudGVyMg==', ['hunter2'])).toBe(
      `pw ${REDACTION_MARK} and base64 ${REDACTION_MARK}`,
    );
    expect(redact('hunter', ['hunter2'])).toBe('hunter');
  });

  it('merges overlapping matches into one mark and handles several secrets', () => {
    const other = 'AnotherSecretValue0123456789abcdefghij';
    const out = redact(`${password}${other} | ${other.slice(5, 30)}`, [password, other]);
    expect(out).toBe(`${REDACTION_MARK} | ${REDACTION_MARK}`);
  });

  it('returns text unchanged when there is nothing to look for', () => {
    expect(redact('anything', [undefined, ''], [undefined])).toBe('anything');
  });
});

describe('cutRedacted', () => {
  it('cuts redacted text to the limit and says so', () => {
    const text = redact(`${'x'.repeat(195)}${password}`, [password]);
    expect(cutRedacted(text, 200)).toBe(`${'x'.repeat(195)}[reda...`);
    expect(cutRedacted(redact('short', [password]), 200)).toBe('short');
  });

  it('redacting first keeps a straddling secret out; cutting first would not', () => {
    const message = `${'x'.repeat(190)}${password}`;
    expect(cutRedacted(redact(message, [password]), 200)).not.toContain(password.slice(0, 10));
    // The order the old code used: the 10 characters left are too short to be recognised.
    expect(redact(message.slice(0, 200), [password])).toContain(password.slice(0, 10));
  });
});
