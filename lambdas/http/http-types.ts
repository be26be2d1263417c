/** A platform-neutral HTTP exchange: API Gateway events and node:http requests both map to it. */
export interface HttpRequest {
  method: string;
  /** Without the query string, e.g. `/agents/a1/push`. */
  path: string;
  /** Lower-case names. */
  headers: Record<string, string | undefined>;
  /** Query string parameters (the first value of each). */
  query?: Record<string, string | undefined>;
  body?: string;
  /**
   * Scopes of the verified caller (hub JWT, or API Gateway's JWT claims). undefined when the
   * platform already authorised the route (IAM).
   */
  scopes?: string[];
  /**
   * The agents a restricted token may act on (its `agents` claim); undefined: any agent. Others
   * get 403 and lists are filtered (lambdas/http/agent-access.ts).
   */
  agents?: string[];
  /** Base URL for Location headers, e.g. `http://127.0.0.1:8080`. */
  baseUrl?: string;
  /**
   * Epoch ms by which the answer must be ready (a Lambda's remaining time, less a margin). A
   * wait for a push's result ends by then, so a stored push is answered 504 + Location rather
   * than killed by the platform's timeout as a 5xx the caller would resend.
   */
  deadline?: number;
  /**
   * Answer at once, as still in flight, when the agent has no relay connection, instead of
   * waiting out waitTimeout. Set on AWS, where the wait is billed Lambda time and the result
   * cannot arrive before a relay connects; the hub waits (a relay may reconnect meanwhile).
   */
  skipWaitWhenOffline?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}
