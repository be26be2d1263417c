/**
 * The API Gateway Management API's wire protocol in front of a WsGateway, so the AWS SDK's
 * ApiGatewayManagementApiClient (endpoint http://127.0.0.1:<port>) works unchanged:
 *   POST   /@connections/{id}  body = the data   -> 200, 410 GoneException, 413 PayloadTooLargeException
 *   GET    /@connections/{id}                    -> 200 {connectedAt, identity, lastActiveAt}, 410
 *   DELETE /@connections/{id}                    -> 204, 410
 * It does not check SigV4 signatures: mount it only where the caller is trusted (tests, or a
 * loopback-only server). The hub does not mount it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PayloadTooLargeError, type WsGateway } from '../../hub/gateway/ws-gateway';

const PREFIX = '/@connections/';

/** Handles a Management API request; false when the path is not one (the caller answers it). */
export function handleManagementRequest(gateway: WsGateway, req: IncomingMessage, res: ServerResponse, maxBodyBytes = 128 * 1024): boolean {
  const pathname = (req.url ?? '/').split('?', 1)[0];
  if (!pathname.startsWith(PREFIX)) return false;
  let connectionId: string;
  try {
    connectionId = decodeURIComponent(pathname.slice(PREFIX.length));
  } catch {
    send(res, 400, 'BadRequestException', { message: 'malformed connection id' });
    return true;
  }
  switch (req.method) {
    case 'POST':
      readBody(req, maxBodyBytes).then(
        async (body) => {
          if (!body) return send(res, 413, 'PayloadTooLargeException', { message: `Message exceeds ${maxBodyBytes} bytes` });
          try {
            const result = await gateway.post(connectionId, body);
            if (result === 'gone') return send(res, 410, 'GoneException', { message: null });
            send(res, 200);
          } catch (err) {
            if (err instanceof PayloadTooLargeError) return send(res, 413, 'PayloadTooLargeException', { message: err.message });
            send(res, 500, 'InternalServerErrorException', { message: 'internal error' });
          }
        },
        () => send(res, 400, 'BadRequestException', { message: 'could not read the body' }),
      );
      return true;
    case 'GET': {
      const info = gateway.info(connectionId);
      if (!info) send(res, 410, 'GoneException', { message: null });
      else {
        const identity: Record<string, string> = { sourceIp: info.sourceIp };
        if (info.userAgent) identity.userAgent = info.userAgent;
        send(res, 200, undefined, {
          connectedAt: new Date(info.connectedAt).toISOString(),
          identity,
          lastActiveAt: new Date(info.lastActiveAt).toISOString(),
        });
      }
      return true;
    }
    case 'DELETE':
      if (gateway.close(connectionId)) send(res, 204);
      else send(res, 410, 'GoneException', { message: null });
      return true;
    default:
      send(res, 405, 'MethodNotAllowedException', { message: 'method not allowed' });
      return true;
  }
}

/** The body, or undefined when it is over the cap (it stops buffering there). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > max) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, errorType?: string, body?: unknown): void {
  const headers: Record<string, string> = {};
  if (errorType) headers['x-amzn-ErrorType'] = errorType;
  if (body === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  const text = JSON.stringify(body);
  headers['content-type'] = 'application/json';
  headers['content-length'] = String(Buffer.byteLength(text));
  res.writeHead(status, headers).end(text);
}
