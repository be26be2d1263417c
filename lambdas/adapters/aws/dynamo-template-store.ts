/**
 * TemplateStore on the existing DynamoDB table. Templates are listed from one names item (a
 * string set, ADD/DELETE on every put/delete) rather than a scan or a new index: there are few
 * templates and listing them is rare. The document is kept as JSON text, so any JSON (empty
 * strings, nulls, deep nesting) round-trips unchanged; items stay far under 400 KB.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FhirHookRecord, TemplateRecord } from '../../core/mapping-records';
import { toTemplateSummary, type TemplateSummary } from '../../core/mapping-records';
import type { TemplateStore } from '../../core/ports';
import { PK, TEMPLATE_NAMES_KEY, fhirHookKey, isConditionFailure, stripKeys, templateKey } from './dynamo-keys';

interface TemplateItem {
  name: string;
  documentJson: string;
  hash: string;
  createdAt: number;
  updatedAt: number;
}

const fromItem = (item: Record<string, unknown>): TemplateRecord => {
  const t = stripKeys<TemplateItem>(item);
  return {
    name: t.name,
    document: JSON.parse(t.documentJson) as TemplateRecord['document'],
    hash: t.hash,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
};

export class DynamoTemplateStore implements TemplateStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async put(template: TemplateRecord): Promise<void> {
    const item: TemplateItem = {
      name: template.name,
      documentJson: JSON.stringify(template.document),
      hash: template.hash,
      createdAt: template.createdAt,
      updatedAt: template.updatedAt,
    };
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...item, [PK]: templateKey(template.name) } }));
    // After the template: a name listed without its item would be a dangling entry, the reverse is just not listed yet.
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { [PK]: TEMPLATE_NAMES_KEY },
        UpdateExpression: 'ADD #names :name',
        ExpressionAttributeNames: { '#names': 'names' },
        ExpressionAttributeValues: { ':name': new Set([template.name]) },
      }),
    );
  }

  async get(name: string): Promise<TemplateRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { [PK]: templateKey(name) }, ConsistentRead: true }));
    return out.Item ? fromItem(out.Item) : undefined;
  }

  /** One GetItem per name (the HTTP function's role has no BatchGetItem; templates are few). */
  async list(): Promise<TemplateSummary[]> {
    const index = await this.db.send(new GetCommand({ TableName: this.table, Key: { [PK]: TEMPLATE_NAMES_KEY }, ConsistentRead: true }));
    const names = [...((index.Item?.names as Set<string> | undefined) ?? [])].sort();
    const found = await Promise.all(names.map((name) => this.get(name)));
    return found.filter((t): t is TemplateRecord => t !== undefined).map(toTemplateSummary);
  }

  async delete(name: string): Promise<boolean> {
    let existed = true;
    try {
      await this.db.send(
        new DeleteCommand({ TableName: this.table, Key: { [PK]: templateKey(name) }, ConditionExpression: `attribute_exists(${PK})` }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      existed = false;
    }
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { [PK]: TEMPLATE_NAMES_KEY },
        UpdateExpression: 'DELETE #names :name',
        ExpressionAttributeNames: { '#names': 'names' },
        ExpressionAttributeValues: { ':name': new Set([name]) },
      }),
    );
    return existed;
  }

  async putHook(hook: FhirHookRecord): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...hook, [PK]: fhirHookKey(hook.agentId, hook.destination) } }));
  }

  async getHook(agentId: string, destination: string): Promise<FhirHookRecord | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { [PK]: fhirHookKey(agentId, destination) }, ConsistentRead: true }),
    );
    return out.Item ? stripKeys<FhirHookRecord>(out.Item) : undefined;
  }
}
