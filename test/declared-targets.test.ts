import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type DeclaredTarget,
  loadDeclaration,
  pairKey,
  parseDeclaration,
  serializeDeclaration,
} from '../lambda/declared-targets.ts';
import { loadConfig } from '../lambda/config.ts';
import { ConfigError } from '../lambda/errors.ts';
import { KNOWN_SERVICES, validateServiceName } from '../lambda/rotation/services.ts';

const alice: DeclaredTarget = {
  secretName: 'service-credentials/alice/cassandra.amazonaws.com',
  userName: 'alice',
  serviceName: 'cassandra.amazonaws.com',
};
const bob: DeclaredTarget = {
  secretName: 'service-credentials/bob/bedrock.amazonaws.com',
  userName: 'bob',
  serviceName: 'bedrock.amazonaws.com',
};

describe('parseDeclaration', () => {
  it('indexes the declared targets by secret name and by pair', () => {
    const declared = parseDeclaration({ version: 1, targets: [alice, bob] });

    expect(declared.bySecretName.get(alice.secretName)).toEqual(alice);
    expect(declared.byPair.get(pairKey('bob', 'bedrock.amazonaws.com'))).toEqual(bob);
    expect(declared.bySecretName.size).toBe(2);
  });

  it('round-trips what serializeDeclaration writes', () => {
    const declared = parseDeclaration(JSON.parse(serializeDeclaration([alice, bob])));
    expect([...declared.bySecretName.values()]).toEqual([alice, bob]);
  });

  it.each([
    [{ targets: [] }, '"version" must be 1'],
    [{ version: 2, targets: [] }, '"version" must be 1'],
    [{ version: 1, targets: {} }, '"targets" must be an array of targets'],
    [{ version: 1, targets: [], extra: true }, 'expected {"version": 1'],
    ['not an object', 'expected {"version": 1'],
  ])('refuses a malformed declaration %j, naming the expected form', (input, message) => {
    expect(() => parseDeclaration(input)).toThrow(ConfigError);
    expect(() => parseDeclaration(input)).toThrow(message);
  });

  it('names the bad entry by index and secret name, and the field', () => {
    const bad = { ...bob, userName: 'bob smith' };
    expect(() => parseDeclaration({ version: 1, targets: [alice, bad] })).toThrow(
      /targets\[1\] \(secret "service-credentials\/bob\/bedrock.amazonaws.com"\): userName must be an IAM user name/,
    );
  });

  it('names an unknown field of an entry', () => {
    expect(() => parseDeclaration({ version: 1, targets: [{ ...alice, user: 'x' }] })).toThrow(
      /targets\[0\].*unknown field\(s\) user/,
    );
  });

  it("carries a target's optional CloudFormation logical id, and refuses one that is not alphanumeric", () => {
    const withId = { ...alice, logicalId: 'RotatorSecretalicecassandraamazonawscomC4FCEF15' };
    expect(parseDeclaration({ version: 1, targets: [withId] }).bySecretName.get(alice.secretName)).toEqual(
      withId,
    );
    expect(() =>
      parseDeclaration({ version: 1, targets: [{ ...alice, logicalId: 'Rotator/Secret' }] }),
    ).toThrow(/targets\[0\].*logicalId must be a CloudFormation logical id/);
  });

  it('refuses a secret declared twice', () => {
    const twice = { ...bob, secretName: alice.secretName };
    expect(() => parseDeclaration({ version: 1, targets: [alice, twice] })).toThrow(
      `targets[1] (secret "${alice.secretName}"): secret ${alice.secretName} is declared twice`,
    );
  });

  it('refuses a pair declared for two secrets', () => {
    const again = { ...alice, secretName: 'other/alice' };
    expect(() => parseDeclaration({ version: 1, targets: [alice, again] })).toThrow(
      `alice/cassandra.amazonaws.com is already declared for secret ${alice.secretName}`,
    );
  });

  it('refuses an unknown service unless the entry says it is deliberate', () => {
    const s3 = { ...alice, serviceName: 's3.amazonaws.com' };
    expect(() => parseDeclaration({ version: 1, targets: [s3] })).toThrow(
      /targets\[0\].*unknown service "s3.amazonaws.com"; known services: cassandra.amazonaws.com, codecommit.amazonaws.com, bedrock.amazonaws.com, logs.amazonaws.com/,
    );
    const declared = parseDeclaration({ version: 1, targets: [{ ...s3, allowUnknownService: true }] });
    expect(declared.bySecretName.size).toBe(1);
  });

  it('accepts thousands of targets', () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({
      secretName: `service-credentials/user-${i}/cassandra.amazonaws.com`,
      userName: `user-${i}`,
      serviceName: 'cassandra.amazonaws.com',
    }));
    expect(parseDeclaration({ version: 1, targets: many }).byPair.size).toBe(5000);
  });
});

describe('loadDeclaration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'declaration-'));

  it('reads the file', () => {
    const path = join(dir, 'targets.json');
    writeFileSync(path, serializeDeclaration([alice]));
    expect(loadDeclaration(path).bySecretName.has(alice.secretName)).toBe(true);
  });

  it('names a file it cannot read, and what it expected', () => {
    expect(() => loadDeclaration(join(dir, 'missing.json'))).toThrow(
      /DECLARED_TARGETS_FILE: cannot read .*missing.json \(ENOENT\); expected the declared-targets file/,
    );
  });

  it('names a file that is not JSON, without quoting it', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{"version": 1, "targets": [ oops');
    expect(() => loadDeclaration(path)).toThrow(`${path} is not valid JSON; expected {"version": 1`);
    expect(() => loadDeclaration(path)).not.toThrow(/oops/);
  });

  it('names the file in an entry error', () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify({ version: 1, targets: [{ ...alice, serviceName: 'nope' }] }));
    expect(() => loadDeclaration(path)).toThrow(`${path}: targets[0]`);
  });
});

describe('validateServiceName', () => {
  it('accepts every known service', () => {
    for (const name of Object.keys(KNOWN_SERVICES)) expect(validateServiceName(name)).toBe(name);
  });

  it('lists the known services when refusing one, and says how to allow it', () => {
    expect(() => validateServiceName('s3.amazonaws.com', { where: 'target app' })).toThrow(
      'target app: unknown service "s3.amazonaws.com"; known services: cassandra.amazonaws.com',
    );
    expect(() => validateServiceName('s3.amazonaws.com')).toThrow('"allowUnknownService": true');
    expect(validateServiceName('s3.amazonaws.com', { allowUnknownService: true })).toBe('s3.amazonaws.com');
  });
});

describe('DECLARED_TARGETS_FILE', () => {
  it('is optional: without it, tags alone decide', () => {
    expect(loadConfig({})).not.toHaveProperty('declaredTargetsFile');
  });

  it('names the file the function reads at cold start', () => {
    expect(loadConfig({ DECLARED_TARGETS_FILE: ' /opt/declared-targets.json ' }).declaredTargetsFile).toBe(
      '/opt/declared-targets.json',
    );
  });
});
