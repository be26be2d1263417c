/** An error the API reports to its caller: an HTTP status, a stable code, and a readable message. */
export class DomainError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const badRequest = (code: string, message: string) => new DomainError(400, code, message);
export const notFound = (code: string, message: string) => new DomainError(404, code, message);
