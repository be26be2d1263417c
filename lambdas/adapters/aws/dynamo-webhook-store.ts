/**
 * WebhookStore on the single table: one item per agent (`webhook#[agentId]`), kept off the agent
 * item so the connect path (whose IAM grant covers `agent#*` items only) never reads a sealed
 * secret. The secret arrives sealed by the core; this store never sees it in the clear.
 */
import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { WebhookRecord } from '../../core/inbound-records';
import type { WebhookStore } from '../../core/ports';
import { PK, stripKeys, webhookKey } from './dynamo-keys';

export class DynamoWebhookStore implements WebhookStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async put(webhook: WebhookRecord): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...webhook, [PK]: webhookKey(webhook.agentId) } }));
  }

  async get(agentId: string): Promise<WebhookRecord | undefined> {
    // Consistent: a webhook set a moment ago is used by the very next delivery.
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { [PK]: webhookKey(agentId) }, ConsistentRead: true }));
    return out.Item ? stripKeys<WebhookRecord>(out.Item) : undefined;
  }

  async delete(agentId: string): Promise<boolean> {
    const out = await this.db.send(
      new DeleteCommand({ TableName: this.table, Key: { [PK]: webhookKey(agentId) }, ReturnValues: 'ALL_OLD' }),
    );
    return out.Attributes !== undefined;
  }
}
