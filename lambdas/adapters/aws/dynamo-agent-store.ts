/** AgentStore on DynamoDB. Connection changes are conditional so a stale $disconnect cannot clear a newer connection. */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AgentStore, ClaimResult, ConnectionClaim } from '../../core/ports';
import type { AgentRecord } from '../../core/records';
import { PK, agentKey, isConditionFailure, stripKeys } from './dynamo-keys';
import { AGENTS_INDEX, AGENT_LIST, AGENT_LIST_VALUE } from './dynamo-list-index';

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
          Item: { ...agent, [PK]: agentKey(agent.agentId), [AGENT_LIST]: AGENT_LIST_VALUE },
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
    return out.Item ? agentFrom(out.Item) : undefined;
  }

  /** From the sparse `agents` index (eventually consistent, like every GSI read). */
  async list(): Promise<AgentRecord[]> {
    const agents: AgentRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: AGENTS_INDEX,
          KeyConditionExpression: '#list = :agent',
          ExpressionAttributeNames: { '#list': AGENT_LIST },
          ExpressionAttributeValues: { ':agent': AGENT_LIST_VALUE },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of out.Items ?? []) agents.push(agentFrom(item));
      start = out.LastEvaluatedKey;
    } while (start);
    return agents;
  }

  async setDisabled(agentId: string, disabled: boolean): Promise<AgentRecord | undefined> {
    const done = disabled
      ? await this.conditionalUpdate(agentId, 'SET #disabled = :true', `attribute_exists(${PK})`, { ':true': true })
      : await this.conditionalUpdate(agentId, 'REMOVE #disabled', `attribute_exists(${PK})`, {});
    return done ? this.get(agentId) : undefined;
  }

  async delete(agentId: string): Promise<boolean> {
    try {
      await this.db.send(
        new DeleteCommand({ TableName: this.table, Key: { [PK]: agentKey(agentId) }, ConditionExpression: `attribute_exists(${PK})` }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /**
   * One relay per agent, as one conditional write: the connection is taken when there is none,
   * when the current one was last heard of before staleBefore, or by the same relay process.
   * A refusal is then counted with a second (unconditional on liveness) write.
   */
  async claimConnection(agentId: string, claim: ConnectionClaim): Promise<ClaimResult> {
    const values: Record<string, unknown> = { ':c': claim.connectionId, ':at': claim.at, ':stale': claim.staleBefore };
    let set = 'SET #conn = :c, #connectedAt = :at, #lastSeenAt = :at';
    if (claim.relayInstance !== undefined) {
      set += ', #inst = :inst';
      values[':inst'] = claim.relayInstance;
    } else {
      set += ' REMOVE #inst';
    }
    // lastSeenAt is set with connectedAt on every claim, so it alone tells when the agent was last heard of.
    const free = 'attribute_not_exists(#conn) OR attribute_not_exists(#lastSeenAt) OR #lastSeenAt < :stale';
    const condition = `attribute_exists(${PK}) AND (${free}${claim.relayInstance !== undefined ? ' OR #inst = :inst' : ''})`;
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [PK]: agentKey(agentId) },
          UpdateExpression: set,
          ConditionExpression: condition,
          ExpressionAttributeNames: pickNames(`${set} ${condition}`),
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_OLD',
        }),
      );
      const replaced = (out.Attributes as { connectionId?: string } | undefined)?.connectionId;
      return replaced === undefined ? { outcome: 'claimed' } : { outcome: 'claimed', replaced };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [PK]: agentKey(agentId) },
          UpdateExpression: 'SET #conflictAt = :at ADD #conflictCount :one',
          ConditionExpression: `attribute_exists(${PK})`,
          ExpressionAttributeNames: { '#conflictAt': 'conflictAt', '#conflictCount': 'conflictCount' },
          ExpressionAttributeValues: { ':at': claim.at, ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { outcome: 'refused', liveConnectionId: String((out.Attributes as { connectionId?: string } | undefined)?.connectionId) };
    } catch (err) {
      if (isConditionFailure(err)) return { outcome: 'unknown-agent' };
      throw err;
    }
  }

  async clearConnection(agentId: string, connectionId: string): Promise<boolean> {
    return this.conditionalUpdate(agentId, 'REMOVE #conn, #connectedAt', '#conn = :c', { ':c': connectionId });
  }

  async replaceSecretHash(agentId: string, expected: string, next: string): Promise<boolean> {
    return this.conditionalUpdate(agentId, 'SET #secretHash = :next', '#secretHash = :expected', { ':next': next, ':expected': expected });
  }

  async touch(agentId: string, patch: Parameters<AgentStore['touch']>[1]): Promise<void> {
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
    if (patch.deviceProtocols !== undefined) {
      sets.push('#deviceProtocols = :deviceProtocols');
      values[':deviceProtocols'] = patch.deviceProtocols;
    }
    // The channels of the last hello: the cloud accepts inbound messages only for these.
    if (patch.channels !== undefined) {
      sets.push('#channels = :channels');
      values[':channels'] = patch.channels;
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
          ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
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
  '#deviceProtocols': 'deviceProtocols',
  '#channels': 'channels',
  '#secretHash': 'secretHash',
  '#inst': 'relayInstance',
  '#disabled': 'disabled',
};

function agentFrom(item: Record<string, unknown>): AgentRecord {
  const { [AGENT_LIST]: _list, ...rest } = stripKeys<Record<string, unknown>>(item);
  return rest as unknown as AgentRecord;
}

/** Only the aliases an expression uses: DynamoDB rejects unused ones. */
function pickNames(expression: string): Record<string, string> | undefined {
  const used = Object.entries(NAMES).filter(([alias]) => new RegExp(`${alias}\\b`).test(expression));
  return used.length ? Object.fromEntries(used) : undefined;
}
