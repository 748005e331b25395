// The IAM and Secrets Manager calls of the user-tag opt-in (lambda/opt-in.ts): every user's
// tags (ListUsers, then ListUserTags per user: ListUsers does not return tags), and the secret
// of an opted-in target that has none yet (CreateSecret with the target's two tags and no
// value: the first run bootstraps it like any placeholder). It never writes a user or a tag.
import { type IAMClient, ListUserTagsCommand, ListUsersCommand } from '@aws-sdk/client-iam';
import { CreateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SERVICE_NAME_TAG, USER_NAME_TAG } from '../contract.ts';
import type { DeclaredTarget } from '../declared-targets.ts';
import type { TaggedUser } from '../opt-in.ts';
import { translateAwsError } from './errors.ts';

export interface OptInPort {
  /** Users carrying `tagKey`, with all their tags. */
  taggedUsers(tagKey: string): Promise<TaggedUser[]>;
  /** Creates the (empty, tagged) secret of an opted-in target; false when it exists already. */
  createTargetSecret(target: DeclaredTarget): Promise<boolean>;
}

export class IamUserOptIn implements OptInPort {
  constructor(
    private readonly iam: IAMClient,
    private readonly secrets: SecretsManagerClient,
  ) {}

  async taggedUsers(tagKey: string): Promise<TaggedUser[]> {
    const users: TaggedUser[] = [];
    let marker: string | undefined;
    do {
      const page = await this.#send('ListUsers', 'all users', () =>
        this.iam.send(new ListUsersCommand({ MaxItems: 1000, ...(marker ? { Marker: marker } : {}) })),
      );
      for (const user of page.Users ?? []) {
        if (!user.UserName) continue;
        const tags = await this.#tags(user.UserName);
        if (tags[tagKey] !== undefined) users.push({ userName: user.UserName, tags });
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return users;
  }

  async createTargetSecret(target: DeclaredTarget): Promise<boolean> {
    try {
      await this.secrets.send(
        new CreateSecretCommand({
          Name: target.secretName,
          Description: `service-credential-rotator: credential of ${target.userName} for ${target.serviceName} (opted in by user tag)`,
          Tags: [
            { Key: USER_NAME_TAG, Value: target.userName },
            { Key: SERVICE_NAME_TAG, Value: target.serviceName },
          ],
        }),
      );
      return true;
    } catch (error) {
      const translated = translateAwsError('CreateSecret', error, { subject: target.secretName });
      if (translated.code === 'ResourceExistsException') return false;
      throw translated;
    }
  }

  async #tags(userName: string): Promise<Record<string, string>> {
    const tags: Record<string, string> = {};
    let marker: string | undefined;
    do {
      const page = await this.#send('ListUserTags', `user ${userName}`, () =>
        this.iam.send(
          new ListUserTagsCommand({
            UserName: userName,
            MaxItems: 1000,
            ...(marker ? { Marker: marker } : {}),
          }),
        ),
      );
      for (const tag of page.Tags ?? []) if (tag.Key) tags[tag.Key] = tag.Value ?? '';
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return tags;
  }

  async #send<T>(operation: string, subject: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw translateAwsError(operation, error, { subject });
    }
  }
}
