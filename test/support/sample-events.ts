// The sample events (events/*.json, the same ones docs/USAGE.md shows) and the command each
// one must parse to. Shared by the event-parsing and handler tests.
import type { Command } from '../../lambda/rotation/commands.ts';

export const SAMPLE_EVENT_COMMANDS: Readonly<Record<string, Command>> = {
  'dry-run.json': { action: 'reconcile', dryRun: true },
  'reconcile.json': { action: 'reconcile', dryRun: false },
  'rotate-secret-force.json': {
    action: 'rotate',
    target: { secretId: 'service-credentials/app-keyspaces/cassandra.amazonaws.com' },
    force: true,
    dryRun: false,
  },
  'rotate-target.json': {
    action: 'rotate',
    target: { userName: 'app-keyspaces', serviceName: 'cassandra.amazonaws.com' },
    force: false,
    dryRun: false,
  },
  'revoke-credential-delete.json': {
    action: 'revoke',
    target: { secretId: 'service-credentials/app-keyspaces/cassandra.amazonaws.com' },
    credentialId: 'ACCAEXAMPLE0CREDENTIAL1',
    delete: true,
    dryRun: false,
  },
  'revoke-current.json': {
    action: 'revoke',
    target: { secretId: 'service-credentials/app-keyspaces/cassandra.amazonaws.com' },
    delete: false,
    dryRun: false,
  },
  'rollback-target.json': {
    action: 'rollback',
    target: { userName: 'app-keyspaces', serviceName: 'cassandra.amazonaws.com' },
    dryRun: false,
  },
  'scheduled-rule.json': { action: 'reconcile', dryRun: false },
  'scheduler.json': { action: 'reconcile', dryRun: false },
  'status.json': { action: 'status' },
  'status-target.json': {
    action: 'status',
    target: { userName: 'app-keyspaces', serviceName: 'cassandra.amazonaws.com' },
  },
};
