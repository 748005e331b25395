// The secrets the deployment created, recognised by their ARN. A declared secret is named in
// the declaration by name (an ARN is unknown before deployment), and a name can be recreated
// by anyone allowed to delete and create secrets; the ARN cannot: Secrets Manager appends six
// random characters to every new secret's ARN. The deploying stack records each secret's ARN
// under its logical id, which the declaration carries, so the function asks the stack
// (DescribeStackResource(s), lambda/aws/cloudformation.ts) and pins every declared name to
// that ARN; discovery then rejects a secret of that name with any other ARN.
import type { DeploymentPort } from './aws/ports.ts';
import { ENV } from './contract.ts';
import type { DeclaredTargets } from './declared-targets.ts';
import { ConfigError } from './errors.ts';

/**
 * Under a deploying stack every declared entry must name its logical id: the construct writes
 * it into every entry in the same deployment that sets DEPLOYMENT_STACK_ID, so an entry
 * without one was written by hand or by another tool, and matching it by name alone would let
 * a recreated secret of that name receive the user's credential. Refused at cold start,
 * touching nothing, like any other bad declaration.
 */
export function requireLogicalIds(declared: DeclaredTargets, stackId: string): void {
  const missing = [...declared.bySecretName.values()].filter((t) => !t.logicalId).map((t) => t.secretName);
  if (missing.length === 0) return;
  const shown =
    missing.slice(0, 5).join(', ') + (missing.length > 5 ? ` and ${missing.length - 5} more` : '');
  throw new ConfigError(
    `${ENV.deploymentStackId} is set (${stackId}) but declared target(s) ${shown} have no logicalId: ` +
      'the function cannot tell the secret the stack created from a look-alike recreated under the same name; ' +
      'expected every declared entry to carry "logicalId" (the construct writes it; redeploy with the current version)',
  );
}

/**
 * Pins declared secret names to the ARNs their stack created. The answer is kept for the
 * container's life: a logical id's ARN changes only when CloudFormation replaces the secret,
 * which for a secret means a new name, which changes the declaration, which publishes a new
 * layer version and updates the function, so new containers start. A failed resolution is
 * not kept: the next invocation asks again.
 */
export class DeployedSecrets {
  #arns: Map<string, string> | undefined;
  #asked = new Set<string>();

  constructor(
    private readonly deployment: DeploymentPort,
    readonly stackId: string,
  ) {}

  async pin(declared: DeclaredTargets): Promise<DeclaredTargets> {
    const byLogicalId = new Map<string, string>();
    for (const t of declared.bySecretName.values())
      if (t.logicalId) byLogicalId.set(t.logicalId, t.secretName);
    const unasked = [...byLogicalId.keys()].filter((id) => !this.#asked.has(id));
    if (unasked.length > 0) {
      const found = await this.deployment.deployedSecretArns(this.stackId, unasked);
      this.#arns = new Map([...(this.#arns ?? []), ...found]);
      for (const id of unasked) this.#asked.add(id);
    }
    const deployedArns = new Map<string, string | undefined>();
    for (const [logicalId, secretName] of byLogicalId)
      deployedArns.set(secretName, this.#arns?.get(logicalId));
    return { ...declared, deployedArns };
  }
}
