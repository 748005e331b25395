// Ships the declared targets with the function: the construct writes the declaration file
// (format: lambda/declared-targets.ts) into a Lambda layer, mounted at DECLARED_TARGETS_PATH. A
// layer, not an environment variable, because Lambda's environment holds 4 KB in all.
// The layer is made at synth (an aspect), after every addTarget(): an asset's content is
// fixed the moment the asset is created.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aspects, type IAspect } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct, IConstruct } from 'constructs';
import { type DeclaredTarget, serializeDeclaration } from '../../lambda/contract.ts';

/** Directory of the layer, under /opt once Lambda mounts it. */
const LAYER_DIR = 'credential-rotator';
const FILE_NAME = 'declared-targets.json';
/** Where the function reads the declaration (DECLARED_TARGETS_FILE). */
export const DECLARED_TARGETS_PATH = `/opt/${LAYER_DIR}/${FILE_NAME}`;

/** Writes the declaration into a fresh directory laid out as the layer. */
export function writeDeclarationDir(targets: readonly DeclaredTarget[]): string {
  const root = mkdtempSync(join(tmpdir(), 'declared-targets-'));
  mkdirSync(join(root, LAYER_DIR));
  writeFileSync(join(root, LAYER_DIR, FILE_NAME), serializeDeclaration(targets));
  return root;
}

/**
 * Adds the declaration layer to `fn` when the app is synthesised, listing `targets()` as
 * they are then. Construct id `DeclaredTargets` under `scope`.
 */
export function shipDeclarationAtSynth(
  scope: Construct,
  fn: lambda.Function,
  targets: () => readonly DeclaredTarget[],
): void {
  let shipped = false;
  const aspect: IAspect = {
    visit(node: IConstruct) {
      if (node !== scope || shipped) return;
      shipped = true;
      const layer = new lambda.LayerVersion(scope, 'DeclaredTargets', {
        code: lambda.Code.fromAsset(writeDeclarationDir(targets())),
        description: 'service-credential-rotator: the declared targets (secret <-> user, service)',
        compatibleRuntimes: [lambda.Runtime.NODEJS_24_X],
        compatibleArchitectures: [lambda.Architecture.ARM_64],
      });
      fn.addLayers(layer);
    },
  };
  Aspects.of(scope).add(aspect);
}
