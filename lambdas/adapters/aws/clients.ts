/** The SDK clients, built once from config. Kept apart so tests and the bench can wrap them. */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsAdapterConfig } from './aws-config';

export interface AwsClients {
  dynamo: DynamoDBDocumentClient;
  sqs: SQSClient;
  management: ApiGatewayManagementApiClient;
  secrets: SecretsManagerClient;
  /** Only when a body bucket is configured. */
  s3?: S3Client;
  /** Only when an event bus is configured. */
  events?: EventBridgeClient;
}

export function createClients(config: AwsAdapterConfig): AwsClients {
  const base = { region: config.region, ...(config.credentials ? { credentials: config.credentials } : {}) };
  const raw = new DynamoDBClient({ ...base, ...(config.dynamoEndpoint ? { endpoint: config.dynamoEndpoint } : {}) });
  return {
    // removeUndefinedValues: optional record fields are simply absent from the item.
    dynamo: DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } }),
    sqs: new SQSClient({ ...base, ...(config.sqsEndpoint ? { endpoint: config.sqsEndpoint } : {}) }),
    management: new ApiGatewayManagementApiClient({ ...base, endpoint: config.managementEndpoint }),
    secrets: new SecretsManagerClient({ ...base, ...(config.secretsManagerEndpoint ? { endpoint: config.secretsManagerEndpoint } : {}) }),
    ...(config.bodyBucket
      ? { s3: new S3Client({ ...base, ...(config.s3Endpoint ? { endpoint: config.s3Endpoint, forcePathStyle: true } : {}) }) }
      : {}),
    ...(config.eventBusName
      ? { events: new EventBridgeClient({ ...base, ...(config.eventBridgeEndpoint ? { endpoint: config.eventBridgeEndpoint } : {}) }) }
      : {}),
  };
}
