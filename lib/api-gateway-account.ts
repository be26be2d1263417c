/**
 * The account's API Gateway CloudWatch role (AWS::ApiGateway::Account). WebSocket (and REST)
 * access logs need it in the Region: without it a stage with access logs fails with
 * "CloudWatch Logs role ARN must be set in account settings"
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html).
 * The setting is account-wide, so only an opt-in prop creates it.
 */
import { RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { CfnAccount } from 'aws-cdk-lib/aws-apigateway';
import { ManagedPolicy, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

export function createApiGatewayCloudWatchRole(scope: Construct): { role: Role; account: CfnAccount } {
  const role = new Role(scope, 'ApiGatewayCloudWatchRole', {
    assumedBy: new ServicePrincipal('apigateway.amazonaws.com'),
    description: "API Gateway's account-wide role for writing CloudWatch logs (set by EdgePush, kept on stack deletion)",
    managedPolicies: [ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs')],
  });
  const stackPartition = Stack.of(scope).partition;
  const partition = Token.isUnresolved(stackPartition) ? '<AWS::Partition>' : stackPartition;
  // Other APIs of the account log through this role after we set it: deleting the stack must not
  // delete it under them (CloudFormation leaves the account setting as it is on delete).
  role.applyRemovalPolicy(RemovalPolicy.RETAIN);
  Validations.of(role).acknowledge({
    // cdk-nag spells the partition as a token, or as a literal when the stack has one.
    id: `AwsSolutions::AwsSolutions-IAM4[Policy::arn:${partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]`,
    reason:
      "AWS's own policy for the account-wide API Gateway logging role: API Gateway writes every API's logs through it, to log groups it names at run time.",
  });
  const account = new CfnAccount(scope, 'ApiGatewayAccount', { cloudWatchRoleArn: role.roleArn });
  account.node.addDependency(role);
  return { role, account };
}
