/** An error with the HTTP status and one clear sentence for the caller (docs/contract.md §6). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Why input was refused, as counted in `lastseen_api_rejected_total{reason}`. */
    readonly reason?: string,
  ) {
    super(message);
  }
}
