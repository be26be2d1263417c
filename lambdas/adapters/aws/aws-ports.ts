/** Builds the aws adapter set from config and the SDK clients. */
import type { Log, Ports } from '../../core/ports';
import { ApiGatewayConnectionGateway } from './apigw-gateway';
import type { AwsAdapterConfig } from './aws-config';
import type { AwsClients } from './clients';
import { DynamoAgentStore } from './dynamo-agent-store';
import { DynamoPushStore } from './dynamo-push-store';
import { ParkedMessages } from './parked-messages';
import { PollingWatcher } from './polling-watcher';
import { SecretsManagerKey } from './secrets-manager-key';
import { SqsPushQueue } from './sqs-queue';
import { DynamoTemplateStore } from './dynamo-template-store';
import { FetchFhirClient } from '../http/fetch-fhir-client';

export function createAwsPorts(config: AwsAdapterConfig, clients: AwsClients, log?: Log): Ports & { queue: SqsPushQueue } {
  const pushes = new DynamoPushStore(clients.dynamo, config.tableName, config.retentionDays, { idempotentCreate: config.idempotentCreate });
  return {
    pushes,
    agents: new DynamoAgentStore(clients.dynamo, config.tableName),
    queue: new SqsPushQueue(clients.sqs, config.queueUrl, new ParkedMessages(clients.dynamo, config.tableName), log),
    gateway: new ApiGatewayConnectionGateway(clients.management),
    watcher: new PollingWatcher(pushes),
    clock: { now: () => Date.now() },
    secretKey: new SecretsManagerKey(clients.secrets, config.agentKeySecret),
    templates: new DynamoTemplateStore(clients.dynamo, config.tableName),
    fhir: new FetchFhirClient(),
  };
}
