// The Lambda entry point: parse the event, run the command, report. No business logic here.
// Ordering matters: nothing is touched before the event is valid; metrics and events are
// sent and the report logged before a failed run is turned into an error, so Lambda's error
// metric, async retries and the failure destination see the failure with the rest done.
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { createClients, lazyDeployment } from './aws/clients.ts';
import { createEventPublisher, type PublishEvents } from './aws/eventbridge.ts';
import { IamCredentials } from './aws/iam.ts';
import { IamUserOptIn, type OptInPort } from './aws/opt-in.ts';
import type { CredentialsPort, DeploymentPort, SecretRotationPort, SecretsPort } from './aws/ports.ts';
import { SecretsStore } from './aws/secrets.ts';
import { timeoutProblem } from './budget.ts';
import { type Config, loadConfig } from './config.ts';
import { DEFAULT_SECRET_NAME_PREFIX, DEFAULT_VERIFICATION_MODE, ENV } from './contract.ts';
import { type DeclaredTargets, loadDeclaration } from './declared-targets.ts';
import { DeployedSecrets, requireLogicalIds } from './deployed-secrets.ts';
import { ConfigError, InvalidEventError, RunFailedError } from './errors.ts';
import { parseEvent } from './events.ts';
import { redactHeld } from './redact.ts';
import { ServiceProbes } from './probes/index.ts';
import { createVerifier } from './probes/verifier.ts';
import { runCommand } from './dispatch.ts';
import { manualCommandEvent, manualCommandOf, notify } from './notify.ts';
import type { Command } from './rotation/commands.ts';
import type { Outcome, RunReport } from './rotation/model.ts';
import type { Log, RunDeps } from './rotation/deps.ts';
import type { VerifyCredential } from './rotation/verification.ts';
import { METRICS_NAMESPACE, METRICS_SERVICE } from './telemetry.ts';
import { isFullRun, takeInventory } from './unmanaged.ts';
import { OptInFailedError, resolveOptIn } from './opt-in-run.ts';

export interface HandlerDeps {
  /** Validated configuration (the real handler: `loadConfig(process.env)` at cold start). */
  readonly config: Config;
  readonly credentials: CredentialsPort;
  readonly secrets: SecretsPort & SecretRotationPort;
  /** The clock for the whole run (lifecycle times and the credential-age metric). */
  readonly now: () => Date;
  /**
   * The deployment's declared targets.
   * @default loaded from `config.declaredTargetsFile` when set (at cold start), otherwise none
   */
  readonly declaredTargets?: DeclaredTargets | undefined;
  /**
   * Checks each new credential with its service before anything is retired.
   * @default none here; the Lambda entry point builds one from `config.verification`
   */
  readonly verifyCredential?: VerifyCredential | undefined;
  /**
   * Reads the users that opted in by tag and creates their secrets (with `config.userOptInTag`).
   * @default none here; the Lambda entry point builds one when the tag is configured
   */
  readonly optIn?: OptInPort | undefined;
  /**
   * Reads the deploying stack (`config.deploymentStackId`): the ARN of each declared secret,
   * by its logical id. Required when the config names a stack and a declaration.
   * @default none here; the Lambda entry point builds one when the stack is named
   */
  readonly deployment?: DeploymentPort | undefined;
  /**
   * Called with each finished run's report (the inventory's field included) before a failed
   * run is turned into an error: local tools show what Lambda's error payload does not carry.
   */
  readonly onReport?: ((report: RunReport) => void) | undefined;
  /** The executor. @default runCommand */
  readonly run?: ((command: Command, deps: RunDeps) => Promise<RunReport>) | undefined;
  /**
   * Where transition events go.
   * @default an EventBridge publisher to `config.eventBusName` when set, otherwise none
   */
  readonly publishEvents?: PublishEvents | undefined;
  /** @default a Logger with service `credential-rotator` */
  readonly logger?: Logger | undefined;
  /** @default Metrics in namespace `ServiceCredentialRotator`, service `credential-rotator` */
  readonly metrics?: Metrics | undefined;
}

// A record of every Outcome, so that a new outcome fails the type check until it is counted.
const OUTCOMES = Object.keys({
  unchanged: true,
  rotated: true,
  retired: true,
  recovered: true,
  blocked: true,
  failed: true,
  planned: true,
  'rolled-back': true,
  revoked: true,
} satisfies Record<Outcome, true>) as Outcome[];

/**
 * The executor's Log over a Powertools Logger (whose variadic signature does not accept an
 * explicit `undefined` for the data argument).
 */
export function logOf(logger: Logger): Log {
  const extra = (data?: Record<string, unknown>) => (data ? [data as LogAttributes] : []);
  return {
    debug: (message, data) => logger.debug(message, ...extra(data)),
    info: (message, data) => logger.info(message, ...extra(data)),
    warn: (message, data) => logger.warn(message, ...extra(data)),
    error: (message, data) => logger.error(message, ...extra(data)),
  };
}

/**
 * The error Lambda reports (its error payload, the failure destination's record): unchanged
 * when its text holds no secret the process holds, otherwise a copy with the text redacted and
 * no cause or properties (they may hold the secret too).
 */
function redactedError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const message = redactHeld(error.message);
  if (message === error.message) return error;
  const copy = new Error(message);
  copy.name = error.name;
  return copy;
}

/** An error for a log line: its text redacted with every secret the process holds (redact.ts). */
function errorData(error: unknown): Record<string, unknown> {
  return error instanceof Error
    ? { errorName: redactHeld(error.name), error: redactHeld(error.message) }
    : { error: redactHeld(String(error)) };
}

/** At most this many target ids in the summary line (the report itself has them all). */
const SUMMARY_ID_LIMIT = 50;

/**
 * Counts per outcome, and the ids of the targets that need attention. The executor has logged
 * each changed or failed target, with its actions and reason, on a line of its own: repeating
 * them here would make one line per fleet, which outgrows a CloudWatch log event (256 KB).
 */
function summaryOf(report: RunReport, durationMs: number): Record<string, unknown> {
  const outcomes: Partial<Record<Outcome, number>> = {};
  for (const outcome of OUTCOMES) {
    const n = report.targets.filter((t) => t.outcome === outcome).length;
    if (n > 0) outcomes[outcome] = n;
  }
  const attention = report.targets.filter((t) => t.outcome === 'failed' || t.outcome === 'blocked');
  return {
    action: report.action,
    dryRun: report.dryRun,
    targets: report.targets.length,
    outcomes,
    ...(attention.length > 0
      ? { needsAttention: attention.slice(0, SUMMARY_ID_LIMIT).map((t) => `${t.outcome} ${t.secretId}`) }
      : {}),
    ...(attention.length > SUMMARY_ID_LIMIT
      ? { needsAttentionNotListed: attention.length - SUMMARY_ID_LIMIT }
      : {}),
    ...(report.deferred && report.deferred.length > 0 ? { deferred: report.deferred.length } : {}),
    ...(report.rejected && report.rejected.length > 0 ? { rejected: report.rejected.length } : {}),
    durationMs,
  };
}

/**
 * Whether any target may be verified: a declared target's own mode, else the deployment's,
 * is not `off`; without a declaration, the deployment's mode (a tagged secret's own mode is
 * read only during the run; the check is a warning to the operator, not a gate).
 */
function anyVerified(config: Config, declared: DeclaredTargets | undefined): boolean {
  const fallback = config.verification ?? DEFAULT_VERIFICATION_MODE;
  if (!declared) return fallback !== 'off';
  return [...declared.bySecretName.values()].some((t) => (t.verification ?? fallback) !== 'off');
}

/**
 * An EventBridge publisher whose client is built on the first publish, not at cold start:
 * most runs change nothing and send no event, and building a client costs ~1 ms of init.
 */
function publishOnDemand(eventBusName: string): PublishEvents {
  let publish: PublishEvents | undefined;
  return (events) => {
    publish ??= createEventPublisher(new EventBridgeClient({}), eventBusName);
    return publish(events);
  };
}

/**
 * Under a deploying stack, every declared entry must carry its logical id, and the stack must
 * be readable: checked at cold start, before anything is touched.
 */
function deployedSecretsOf(
  config: Config,
  declared: DeclaredTargets | undefined,
  deployment: DeploymentPort | undefined,
): DeployedSecrets | undefined {
  const stackId = config.deploymentStackId;
  if (!stackId || !declared) return undefined;
  requireLogicalIds(declared, stackId);
  if (!deployment) {
    throw new ConfigError(
      `${ENV.deploymentStackId} is set (${stackId}) but the handler has no way to read the stack; expected a DeploymentPort`,
    );
  }
  return new DeployedSecrets(deployment, stackId);
}

/** The handler with its dependencies injected: for tests and local runs. */
export function createHandler(deps: HandlerDeps) {
  const { config, credentials, secrets, now } = deps;
  const run = deps.run ?? runCommand;
  const logger = deps.logger ?? new Logger({ serviceName: METRICS_SERVICE });
  const metrics = deps.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });
  const log = logOf(logger);
  const publishEvents =
    deps.publishEvents ?? (config.eventBusName ? publishOnDemand(config.eventBusName) : undefined);
  // Read once, at cold start: a bad declaration fails the init, before anything is touched.
  const declaredTargets =
    deps.declaredTargets ??
    (config.declaredTargetsFile ? loadDeclaration(config.declaredTargetsFile) : undefined);
  const deployed = deployedSecretsOf(config, declaredTargets, deps.deployment);

  /**
   * Whoever may invoke may force a rotation (an early deletion): each manual command is
   * recorded before it runs, under the invocation's request id, in the log and on the bus.
   * The log line is the record; the event is best effort like every other event.
   */
  const audit = async (command: Command, context: Context): Promise<void> => {
    const requestId = typeof context?.awsRequestId === 'string' ? context.awsRequestId : 'unknown';
    const detail = manualCommandOf(command, requestId, now(), context?.identity?.cognitoIdentityId);
    if (!detail) return;
    logger.info('manual command', { ...detail });
    if (!publishEvents) return;
    try {
      await publishEvents([manualCommandEvent(detail)]);
    } catch (error) {
      logger.warn('manual command event not published', { requestId, ...errorData(error) });
    }
  };

  // Once per container, on its first invocation (the timeout is known only from the context).
  // Logged as an error, not thrown: a short timeout still lets manual status, rollback and
  // revoke commands work (an operator needs them in an incident) and quiet targets be checked;
  // throwing would fail all of them and triple each failure through Lambda's async retries.
  // The run's deferrals then raise the DeferredTargets alarms, so it is loud either way.
  let timeoutChecked = false;
  const checkTimeout = (context: Context): void => {
    if (timeoutChecked || typeof context?.getRemainingTimeInMillis !== 'function') return;
    timeoutChecked = true;
    const problem = timeoutProblem(
      Math.floor(context.getRemainingTimeInMillis() / 1000),
      anyVerified(config, declaredTargets),
    );
    if (problem) logger.error('function timeout too short', { problem });
  };

  const rotate = async (event: unknown, context: Context): Promise<RunReport> => {
    checkTimeout(context);
    let command: Command;
    try {
      command = parseEvent(event);
    } catch (error) {
      // Logged once here; the rethrow lets Lambda report the invocation as failed.
      if (error instanceof InvalidEventError) logger.error('event rejected', errorData(error));
      throw error;
    }
    logger.info('run started', { command: { ...command } });
    await audit(command, context);

    const started = Date.now();
    let report: RunReport;
    let optInError: string | undefined;
    try {
      // The users that opted in by tag, read afresh each run: a tag set today rotates today.
      const optedIn =
        config.userOptInTag && deps.optIn
          ? await resolveOptIn({
              optIn: deps.optIn,
              secrets,
              tagKey: config.userOptInTag,
              secretNamePrefix: config.secretNamePrefix ?? DEFAULT_SECRET_NAME_PREFIX,
              declared: declaredTargets,
              provision: command.action === 'reconcile' && !command.dryRun,
              log,
            })
          : { declared: declaredTargets };
      optInError = optedIn.error;
      // Each declared name pinned to the ARN its stack created (resolved once per container):
      // a secret recreated under a declared name is then a look-alike, never written.
      const declared = deployed && optedIn.declared ? await deployed.pin(optedIn.declared) : optedIn.declared;
      report = await run(command, {
        credentials,
        secrets,
        policy: config.policy,
        secretNamePrefix: config.secretNamePrefix,
        declaredTargets: declared,
        bulkCredentialListing: config.bulkCredentialListing,
        verifyCredential: deps.verifyCredential,
        // Whether a target that sets no mode of its own is verified: the run reserves the
        // verification budget only for a new credential that is.
        verificationMode: config.verification ?? DEFAULT_VERIFICATION_MODE,
        now,
        log,
        // Written into the intent before each Create or Reset (a Lambda retry keeps the id).
        requestId: typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined,
        // Which rotation function this is, in Secrets Manager's eyes: rotation steps for secrets
        // naming another function are refused, and due secrets naming this one go through it.
        functionArn: typeof context?.invokedFunctionArn === 'string' ? context.invokedFunctionArn : undefined,
        // Absent outside Lambda (local runs): then the run has no deadline.
        remainingTimeMs:
          typeof context?.getRemainingTimeInMillis === 'function'
            ? () => context.getRemainingTimeInMillis()
            : undefined,
      });
    } catch (error) {
      logger.error('run aborted', errorData(error));
      throw redactedError(error);
    }
    // After a full run only: then a credential no report entry names is one no target covers
    // (not when the opted-in users were not read: theirs would look unmanaged).
    if (config.credentialInventory && optInError === undefined && isFullRun(command, report)) {
      report = await takeInventory(report, { credentials, metrics, publishEvents, log, now });
    }

    try {
      await notify(report, { metrics, publishEvents, log, now });
    } catch (error) {
      logger.warn('notification failed', errorData(error));
    }

    deps.onReport?.(report);
    const failed = report.targets.filter((t) => t.outcome === 'failed');
    const summary = summaryOf(report, Date.now() - started);
    if (failed.length > 0) logger.error('run finished', summary);
    else if (report.targets.some((t) => t.outcome === 'blocked') || summary.deferred || summary.rejected)
      logger.warn('run finished', summary);
    else logger.info('run finished', summary);

    if (failed.length > 0) {
      throw new RunFailedError(
        failed.map((t) => t.secretId),
        failed.map((t) => t.reason ?? 'no reason given'),
      );
    }
    if (optInError !== undefined) throw new OptInFailedError(optInError);
    return report;
  };

  // No early-timeout: the executor watches the deadline itself and stops starting targets,
  // whereas middy's early timeout would only abandon a run mid-target (and leaks a timer in tests).
  return middy<unknown, RunReport>({ timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .handler(rotate);
}

function createLambdaHandler() {
  // Cold start: an invalid environment fails the init with the ConfigError's message.
  const config = loadConfig(process.env);
  const clients = createClients();
  return createHandler({
    config,
    credentials: new IamCredentials(clients.iam),
    secrets: new SecretsStore(clients.secrets),
    ...(config.userOptInTag ? { optIn: new IamUserOptIn(clients.iam, clients.secrets) } : {}),
    ...(config.deploymentStackId ? { deployment: lazyDeployment() } : {}),
    now: () => new Date(),
    // The probes talk to the services' public endpoints in the function's own region.
    verifyCredential: createVerifier({
      probe: new ServiceProbes(),
      region: () => clients.iam.config.region(),
      defaultMode: config.verification ?? DEFAULT_VERIFICATION_MODE,
    }),
  });
}

export const handler = createLambdaHandler();
