/**
 * API Gateway's own error frames on a WebSocket. When the route's integration fails (the
 * ws-message Lambda threw, timed out or was throttled) or the stage throttles the message,
 * API Gateway itself answers down the socket with a frame that is not a cloud message:
 *
 *   {"message": "Internal server error", "connectionId": "Zq0l...=", "requestId": "Zq1L...="}
 *
 * (shape as reported in aws/aws-cdk#18208 and nearst/laconia#41; throttling answers the same
 * way with another message, e.g. "Too Many Requests"). It never says which message failed, so
 * the relay treats it as "some message was not recorded": results stay in the outbox and the
 * re-send timer sends them again.
 */
export interface GatewayError {
  message: string;
  requestId?: string;
}

export function parseGatewayError(text: string): GatewayError | undefined {
  // Cheap pre-check: every cloud message has "type"; these frames have "message" and ids.
  if (!text.includes('"message"') || !text.includes('"connectionId"')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const obj = value as Record<string, unknown>;
  if ('type' in obj || typeof obj.message !== 'string' || typeof obj.connectionId !== 'string') return undefined;
  return { message: obj.message.slice(0, 200), requestId: typeof obj.requestId === 'string' ? obj.requestId.slice(0, 100) : undefined };
}
