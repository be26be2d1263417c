/** AgentStore on DynamoDB. Connection changes are conditional so a stale $disconnect cannot clear a newer connection. */
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AgentStore } from '../../core/ports';
import type { AgentRecord } from '../../core/records';
import { PK, agentKey, isConditionFailure, stripKeys } from './dynamo-keys';

export class DynamoAgentStore implements AgentStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(agent: AgentRecord): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...agent, [PK]: agentKey(agent.agentId) },
          ConditionExpression: `attribute_not_exists(${PK})`,
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async get(agentId: string): Promise<AgentRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { [PK]: agentKey(agentId) }, ConsistentRead: true }));
    return out.Item ? stripKeys<AgentRecord>(out.Item) : undefined;
  }

  async setConnection(agentId: string, connectionId: string, at: number): Promise<void> {
    await this.conditionalUpdate(agentId, 'SET #conn = :c, #connectedAt = :at, #lastSeenAt = :at', `attribute_exists(${PK})`, {
      ':c': connectionId,
      ':at': at,
    });
  }

  async clearConnection(agentId: string, connectionId: string): Promise<boolean> {
    return this.conditionalUpdate(agentId, 'REMOVE #conn, #connectedAt', '#conn = :c', { ':c': connectionId });
  }

  async replaceSecretHash(agentId: string, expected: string, next: string): Promise<boolean> {
    return this.conditionalUpdate(agentId, 'SET #secretHash = :next', '#secretHash = :expected', { ':next': next, ':expected': expected });
  }

  async touch(agentId: string, patch: { lastSeenAt: number; version?: string; devices?: string[] }): Promise<void> {
    const sets = ['#lastSeenAt = :seen'];
    const values: Record<string, unknown> = { ':seen': patch.lastSeenAt };
    if (patch.version !== undefined) {
      sets.push('#version = :version');
      values[':version'] = patch.version;
    }
    if (patch.devices !== undefined) {
      sets.push('#devices = :devices');
      values[':devices'] = patch.devices;
    }
    // The condition keeps a touch for an unknown agent from creating a half item.
    await this.conditionalUpdate(agentId, `SET ${sets.join(', ')}`, `attribute_exists(${PK})`, values);
  }

  /** true when the write happened, false when its condition did not hold. */
  private async conditionalUpdate(
    agentId: string,
    expression: string,
    condition: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [PK]: agentKey(agentId) },
          UpdateExpression: expression,
          ConditionExpression: condition,
          // Aliases for every attribute: some names (version, ...) are DynamoDB reserved words.
          ExpressionAttributeNames: pickNames(`${expression} ${condition}`),
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }
}

const NAMES: Record<string, string> = {
  '#conn': 'connectionId',
  '#connectedAt': 'connectedAt',
  '#lastSeenAt': 'lastSeenAt',
  '#version': 'version',
  '#devices': 'devices',
  '#secretHash': 'secretHash',
};

/** Only the aliases an expression uses: DynamoDB rejects unused ones. */
function pickNames(expression: string): Record<string, string> | undefined {
  const used = Object.entries(NAMES).filter(([alias]) => new RegExp(`${alias}\\b`).test(expression));
  return used.length ? Object.fromEntries(used) : undefined;
}
