/** A platform-neutral HTTP exchange: API Gateway events and node:http requests both map to it. */
export interface HttpRequest {
  method: string;
  /** Without the query string, e.g. `/agents/a1/push`. */
  path: string;
  /** Lower-case names. */
  headers: Record<string, string | undefined>;
  body?: string;
  /**
   * Scopes of the verified caller (hub JWT, or API Gateway's JWT claims). undefined when the
   * platform already authorised the route (IAM).
   */
  scopes?: string[];
  /** Base URL for Location headers, e.g. `http://127.0.0.1:8080`. */
  baseUrl?: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}
