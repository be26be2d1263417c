/** Synthesises the app the way `npx cdk synth` does: the same createApp, cdk.json's context, cdk-nag on. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { App } from 'aws-cdk-lib';
import { createApp } from '../../lib/edgepush-app';
import type { EdgePushStack } from '../../lib/edgepush-stack';

export const ROOT = path.join(__dirname, '..', '..');
export const CDK_JSON_CONTEXT = (JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> })
  .context;

export interface CfnResource {
  Type: string;
  Properties?: Record<string, any>;
  DependsOn?: string | string[];
  Metadata?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, unknown>;
}

export interface Synth {
  template: CfnTemplate;
  stack: EdgePushStack;
  app: App;
  outdir: string;
  report: { pluginReports: { violations: unknown[]; suppressedViolations: { ruleName: string; reason: string }[] }[] };
  /** The bundled code of one function, by the construct's function name. */
  bundle(logicalIdPrefix: string): string;
}

const outdirs: string[] = [];
export function cleanUp(): void {
  for (const d of outdirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function synth(context: Record<string, unknown> = {}, extra?: (stack: EdgePushStack) => void, region?: string): Synth {
  const outdir = mkdtempSync(path.join(tmpdir(), 'edgepush-cdk-'));
  outdirs.push(outdir);
  // Asset metadata on (as the CLI sets it) so a test can find a function's bundle.
  const { app, stack } = createApp(
    { outdir, context: { ...CDK_JSON_CONTEXT, 'aws:cdk:enable-asset-metadata': true, ...context } },
    { region },
  );
  extra?.(stack);
  const assembly = app.synth();
  const artifact = assembly.getStackByName(stack.stackName);
  const template = artifact.template as CfnTemplate;
  const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as Synth['report'];
  const bundle = (prefix: string) => {
    const [, fn] = Object.entries(template.Resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(prefix))!;
    const metadata = fn.Metadata as { 'aws:asset:path': string };
    return readFileSync(path.join(outdir, metadata['aws:asset:path'], 'index.js'), 'utf8');
  };
  return { template, stack, app, outdir, report, bundle };
}

export function resourcesOf(t: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(t.Resources).filter(([, r]) => r.Type === type);
}
