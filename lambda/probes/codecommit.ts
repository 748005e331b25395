// CodeCommit probe: one HTTPS GET of the repository's `info/refs` (what `git fetch` asks
// first) with the user name and password as Basic auth. No git binary needed. CodeCommit
// answers 403 both for a wrong password and for a missing codecommit:GitPull permission, so
// 401/403 count as `rejected` (retried) rather than `denied`.
import { type HttpsOptions, httpsCall } from './https.ts';
import { type CredentialProbe, type ProbeInput, type ProbeResult, redactSecret, result } from './probe.ts';

export interface CodeCommitProbeOptions extends HttpsOptions {
  /** @default `https://git-codecommit.<region>.amazonaws.com` */
  readonly baseUrl?: string | undefined;
}

export class CodeCommitProbe implements CredentialProbe {
  constructor(private readonly options: CodeCommitProbeOptions = {}) {}

  async verify(input: ProbeInput): Promise<ProbeResult> {
    const repository = input.settings?.codeCommitRepository;
    if (!repository) {
      return result('skipped', 'no CodeCommit repository is configured to probe');
    }
    const { serviceUserName = '', secret } = input.credential;
    const base = this.options.baseUrl ?? `https://git-codecommit.${input.region}.amazonaws.com`;
    const url = new URL(`/v1/repos/${encodeURIComponent(repository)}/info/refs`, base);
    url.searchParams.set('service', 'git-upload-pack');
    const answer = await httpsCall(
      url,
      {
        method: 'GET',
        headers: {
          authorization: `Basic ${Buffer.from(`${serviceUserName}:${secret}`).toString('base64')}`,
          'user-agent': 'git/2.45.0 service-credential-rotator',
        },
        credential: input.credential,
      },
      this.options,
    );
    const where = `CodeCommit repository ${repository} in ${input.region}`;
    if (answer.kind === 'failed') {
      return result('unreachable', redactSecret(`${where}: ${answer.description}`, input.credential));
    }
    if (answer.status === 200) return result('verified', `${where} listed its refs`);
    if (answer.status === 401 || answer.status === 403) {
      return result(
        'rejected',
        `${where} answered HTTP ${answer.status} (password not valid yet, wrong, or no codecommit:GitPull permission)`,
      );
    }
    const hint = answer.status === 404 ? ' (does the repository exist in this region?)' : '';
    return result('unreachable', `${where} answered HTTP ${answer.status}${hint}`);
  }
}
