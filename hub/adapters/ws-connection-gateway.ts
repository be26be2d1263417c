import { cloudWireMessages } from '../../protocol/chunks';
import type { CloudMessage } from '../../protocol/messages';
import type { CloseReason, ConnectionGateway, PostResult } from '../../lambdas/core/ports';
import type { WsGateway } from '../gateway/ws-gateway';

/**
 * The ConnectionGateway port on the in-process WsGateway: a direct WebSocket send. A message
 * over 128 KB goes as `chunk` messages (protocol v2), so the core never sees the limit.
 */
export class WsConnectionGateway implements ConnectionGateway {
  constructor(private readonly gateway: WsGateway) {}

  async post(connectionId: string, message: CloudMessage): Promise<PostResult> {
    for (const part of cloudWireMessages(JSON.stringify(message))) {
      if ((await this.gateway.post(connectionId, part)) === 'gone') return 'gone';
    }
    return 'ok';
  }

  close(connectionId: string, why: CloseReason = 'replaced'): Promise<void> {
    if (why === 'revoked') {
      // 1008 (policy violation): the relay's credentials no longer hold.
      this.gateway.close(connectionId, 1008, 'agent disabled, re-keyed or deleted');
    } else {
      this.gateway.close(connectionId, 1000, 'replaced by a newer connection of this agent');
    }
    return Promise.resolve();
  }
}
