// The token side of Application Default Credentials for the local GCS server: an STS token-exchange
// endpoint (what an `external_account` credential file names as `token_url`, as workload identity
// federation uses), which issues access tokens for the subject tokens it accepts and refuses the rest
// (`invalid_grant`). With `required`, the server answers 401 to a request without a token issued here.
import type { IncomingMessage } from 'node:http';

export class GcsTokenEndpoint {
  static readonly path = '/sts/v1/token';
  /** Refuse requests that carry no token issued here. */
  required = false;
  /** Subject tokens exchanged for access tokens; any other is refused. */
  readonly acceptedSubjects = new Set<string>();
  private readonly issued = new Set<string>();

  /** Answers a token exchange (a form-encoded POST). */
  issue(body: Buffer, respond: (status: number, body?: unknown) => void): void {
    const form = new URLSearchParams(body.toString('utf8'));
    const subject = form.get('subject_token') ?? '';
    if (!this.acceptedSubjects.has(subject))
      return respond(400, { error: 'invalid_grant', error_description: 'the subject token was refused' });
    const token = `emulator-token-${this.issued.size + 1}`;
    this.issued.add(token);
    respond(200, {
      access_token: token,
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      token_type: 'Bearer',
      expires_in: 3600,
    });
  }

  allows(req: IncomingMessage): boolean {
    if (!this.required) return true;
    const header = req.headers.authorization ?? '';
    return header.startsWith('Bearer ') && this.issued.has(header.slice('Bearer '.length));
  }
}
