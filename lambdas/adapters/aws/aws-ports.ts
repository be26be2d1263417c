/** Builds the aws adapter set from config and the SDK clients. */
import type { InboundPorts, Log, Ports } from '../../core/ports';
import { FetchWebhookSender } from '../fetch-webhook-sender';
import { ApiGatewayConnectionGateway } from './apigw-gateway';
import type { AwsAdapterConfig } from './aws-config';
import type { AwsClients } from './clients';
import { DynamoAgentStore } from './dynamo-agent-store';
import { DynamoInboundStore } from './dynamo-inbound-store';
import { DynamoPushStore } from './dynamo-push-store';
import { DynamoWebhookStore } from './dynamo-webhook-store';
import { EventBridgeInboundEvents } from './eventbridge-inbound-events';
import { InFlightPushes } from './in-flight-pushes';
import { ParkedMessages } from './parked-messages';
import { PollingInboundWatcher } from './polling-inbound-watcher';
import { PollingWatcher } from './polling-watcher';
import { SecretsManagerKey } from './secrets-manager-key';
import { SqsInboundQueue } from './sqs-inbound-queue';
import { SqsPushQueue } from './sqs-queue';
import { DynamoTemplateStore } from './dynamo-template-store';
import { S3BodyStore } from './s3-body-store';
import { FetchFhirClient } from '../http/fetch-fhir-client';

export function createAwsPorts(config: AwsAdapterConfig, clients: AwsClients, log?: Log): Ports & { queue: SqsPushQueue } {
  const bodies = config.bodyBucket && clients.s3 ? new S3BodyStore(clients.s3, config.bodyBucket) : undefined;
  const pushes = new DynamoPushStore(clients.dynamo, config.tableName, config.retentionDays, {
    idempotentCreate: config.idempotentCreate,
    ...(bodies ? { bodies } : {}),
  });
  return {
    pushes,
    agents: new DynamoAgentStore(clients.dynamo, config.tableName),
    queue: new SqsPushQueue(
      clients.sqs,
      config.queueUrl,
      new ParkedMessages(clients.dynamo, config.tableName),
      log,
      new InFlightPushes(clients.dynamo, config.tableName, log),
    ),
    gateway: new ApiGatewayConnectionGateway(clients.management),
    watcher: new PollingWatcher(pushes, (pushId) => pushes.readStatus(pushId)),
    clock: { now: () => Date.now() },
    secretKey: new SecretsManagerKey(clients.secrets, config.agentKeySecret),
    templates: new DynamoTemplateStore(clients.dynamo, config.tableName),
    fhir: new FetchFhirClient(),
    inbound: createAwsInboundPorts(config, clients),
  };
}

/** The inbound ports of the aws set; the webhook sender is the fetch-based one the hub uses too. */
function createAwsInboundPorts(config: AwsAdapterConfig, clients: AwsClients): InboundPorts {
  const store = new DynamoInboundStore(clients.dynamo, config.tableName, {
    transactions: config.idempotentCreate === 'two-step-for-dynalite' ? 'two-step-for-dynalite' : 'transaction',
  });
  return {
    store,
    webhooks: new DynamoWebhookStore(clients.dynamo, config.tableName),
    queue: new SqsInboundQueue(clients.sqs, config.inboundQueueUrl),
    watcher: new PollingInboundWatcher(store),
    sender: new FetchWebhookSender(),
    ...(config.eventBusName && clients.events ? { events: new EventBridgeInboundEvents(clients.events, config.eventBusName) } : {}),
  };
}
