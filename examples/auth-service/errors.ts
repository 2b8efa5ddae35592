/** An error answered in the OAuth2 format (RFC 6749 §5.2): `{ error, error_description }`. */
export class OAuthError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 413 | 415 | 429 | 503,
    readonly error: string,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description)
  }
}
