/**
 * cdk-nag AwsSolutions checks on the whole app. Every finding is either fixed in
 * edgepush-construct.ts or acknowledged there, on the construct it concerns, with its reason.
 */
import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}
