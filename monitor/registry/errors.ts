/** A registry refusal with the HTTP status the REST layer should answer with. */
export class RegistryError extends Error {
  constructor(
    readonly status: 404 | 409 | 422 | 503,
    message: string,
  ) {
    super(message);
  }
}
