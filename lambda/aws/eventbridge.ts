// EventBridge adapter: publishes the rotator's transition events with PutEvents. It knows
// the API's limits (10 entries per call, partial failures reported per entry) and nothing
// about rotation; notify.ts decides what to send.
import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { AwsCallError } from '../errors.ts';
import { EVENT_SOURCE } from '../telemetry.ts';

/** PutEvents accepts at most 10 entries per call. */
export const PUT_EVENTS_BATCH_SIZE = 10;

/** One event for the bus. `detail` is serialized as JSON; it must never hold a secret. */
export interface BusEvent {
  readonly detailType: string;
  readonly detail: object;
  readonly time?: Date | undefined;
  /** ARNs of the resources concerned (EventBridge rules can match on them). */
  readonly resources?: readonly string[] | undefined;
}

/** Sends events; rejects with AwsCallError when any call or entry failed (after trying all). */
export type PublishEvents = (events: readonly BusEvent[]) => Promise<void>;

function toEntry(event: BusEvent, eventBusName: string): PutEventsRequestEntry {
  return {
    EventBusName: eventBusName,
    Source: EVENT_SOURCE,
    DetailType: event.detailType,
    Detail: JSON.stringify(event.detail),
    ...(event.time ? { Time: event.time } : {}),
    ...(event.resources && event.resources.length > 0 ? { Resources: [...event.resources] } : {}),
  };
}

export function createEventPublisher(client: EventBridgeClient, eventBusName: string): PublishEvents {
  return async (events) => {
    const problems: string[] = [];
    let failedEntries = 0;
    let cause: unknown;
    // Every batch is attempted even when one fails, so one bad batch costs the fewest events.
    for (let start = 0; start < events.length; start += PUT_EVENTS_BATCH_SIZE) {
      const batch = events.slice(start, start + PUT_EVENTS_BATCH_SIZE);
      try {
        const out = await client.send(
          new PutEventsCommand({ Entries: batch.map((e) => toEntry(e, eventBusName)) }),
        );
        if ((out.FailedEntryCount ?? 0) > 0) {
          for (const [i, entry] of (out.Entries ?? []).entries()) {
            if (!entry.ErrorCode) continue;
            failedEntries += 1;
            problems.push(
              `${batch[i]?.detailType ?? 'event'}: ${entry.ErrorCode}: ${entry.ErrorMessage ?? ''}`.trim(),
            );
          }
        }
      } catch (error) {
        cause ??= error;
        failedEntries += batch.length;
        const e = error as { name?: string; message?: string };
        problems.push(`${e.name ?? 'Error'}: ${e.message ?? String(error)}`);
      }
    }
    if (problems.length > 0) {
      const httpStatus = (cause as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
        ?.httpStatusCode;
      throw new AwsCallError(
        'PutEvents',
        cause ? ((cause as { name?: string }).name ?? 'Error') : 'FailedEntries',
        `${failedEntries} of ${events.length} event(s) not published: ${problems.slice(0, 5).join('; ')}`,
        { cause, httpStatus },
      );
    }
  };
}
