/** ConnectionGateway on the API Gateway Management API (postToConnection, DeleteConnection). */
import {
  DeleteConnectionCommand,
  PostToConnectionCommand,
  type ApiGatewayManagementApiClient,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { cloudWireMessages } from '../../../protocol/chunks';
import type { CloudMessage } from '../../../protocol/messages';
import type { ConnectionGateway, PostResult } from '../../core/ports';

/** A message over 128 KB (API Gateway's limit) is posted as `chunk` messages, in order (protocol v2). */
export class ApiGatewayConnectionGateway implements ConnectionGateway {
  constructor(private readonly client: ApiGatewayManagementApiClient) {}

  async post(connectionId: string, message: CloudMessage): Promise<PostResult> {
    try {
      for (const part of cloudWireMessages(JSON.stringify(message))) {
        await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(part) }));
      }
      return 'ok';
    } catch (err) {
      // The relay went away; the core drops the stale connection and retries later.
      if ((err as { name?: string } | null)?.name === 'GoneException') return 'gone';
      throw err;
    }
  }

  /** `DELETE @connections/{id}`: needs execute-api:ManageConnections on DELETE. */
  async close(connectionId: string): Promise<void> {
    try {
      await this.client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    } catch (err) {
      if ((err as { name?: string } | null)?.name !== 'GoneException') throw err;
    }
  }
}
