/** An error with the HTTP status and one clear sentence for the caller (CONTRACT §6). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
