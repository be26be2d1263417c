/**
 * A stand-alone API Gateway look-alike on loopback: the WebSocket endpoint and the Management
 * API on one port. For tests and the emulated AWS path (the hub embeds WsGateway directly).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleManagementRequest } from './management-api';
import { WsGateway, type WsGatewayOptions } from '../../hub/gateway/ws-gateway';

export interface GatewayServer {
  gateway: WsGateway;
  server: Server;
  /** Management API endpoint, e.g. http://127.0.0.1:PORT (give it to ApiGatewayManagementApiClient). */
  endpoint: string;
  /** e.g. ws://127.0.0.1:PORT/ws */
  wsUrl: string;
  close(): Promise<void>;
}

export async function startGatewayServer(options: WsGatewayOptions & { host?: string; port?: number }): Promise<GatewayServer> {
  const gateway = new WsGateway(options);
  const server = createServer((req, res) => {
    if (!handleManagementRequest(gateway, req, res))
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
  });
  gateway.attach(server);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    gateway,
    server,
    endpoint: `http://${host}:${port}`,
    wsUrl: `ws://${host}:${port}${gateway.path}`,
    async close() {
      await gateway.closeAll();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
