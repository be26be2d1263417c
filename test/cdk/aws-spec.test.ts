/**
 * A template that AWS would reject must fail `npm test`: AWS's documented deploy-time rules
 * (test/cdk/aws-spec-rules.ts) over the synthesized stack, in both auth modes and with the
 * optional features on, and over the output of the real `npx cdk synth`. Every rule is also run
 * on a deliberately broken copy, where it must find the fault.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { HTTP_ACCESS_LOG_FORMAT, WEBSOCKET_ACCESS_LOG_FORMAT } from '../../lib/access-log-formats';
import {
  HTTP_API_ACCESS_LOG_VARIABLES,
  WEBSOCKET_API_ACCESS_LOG_VARIABLES,
  contextVariablesIn,
  isSupportedVariable,
} from '../../lib/aws-rules/access-log-variables';
import { SPEC_RULES } from './aws-spec-rules';
import { ROOT, cleanUp, resourcesOf, synth, type CfnTemplate } from './synth';

const run = promisify(execFile);
afterAll(cleanUp);

const JWT = { auth: 'jwt', jwtIssuer: 'https://issuer.example.com', jwtAudience: 'edgepush' };
const VARIANTS: Record<string, Record<string, string>> = {
  'IAM auth (default)': {},
  'JWT auth': JWT,
  'WebSocket access logs, role created': { webSocketAccessLogs: 'create-account-role' },
  'WebSocket access logs, role a stated prerequisite': { webSocketAccessLogs: 'account-role-exists', kms: 'create' },
  'custom domains, no reserved concurrency': {
    pushApiDomain: 'api.example.com',
    pushApiCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
    relayDomain: 'relay.example.com',
    relayCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
    reservedConcurrency: 'off',
  },
};

const templates = new Map<string, CfnTemplate>();
const templateOf = (variant: string) => {
  // A customer-managed key needs a Region-specific stack (the CLI takes it from the profile).
  if (!templates.has(variant))
    templates.set(variant, synth(VARIANTS[variant], undefined, VARIANTS[variant].kms ? 'eu-west-1' : undefined).template);
  return templates.get(variant)!;
};

describe.each(Object.keys(VARIANTS))('AWS deploy-time rules: %s', (variant) => {
  it.each(SPEC_RULES.map((r) => [r.id, r] as const))('%s', (_id, rule) => {
    const template = templateOf(variant);
    expect(rule.check(template)).toEqual([]);
    const broken = structuredClone(template);
    rule.breakIt(broken);
    expect(rule.check(broken).length).toBeGreaterThan(0);
  });
});

describe('access-log formats', () => {
  it('each API type gets its own format, with only variables its type supports', () => {
    const http = contextVariablesIn(HTTP_ACCESS_LOG_FORMAT);
    const ws = contextVariablesIn(WEBSOCKET_ACCESS_LOG_FORMAT);
    expect(http.length).toBeGreaterThan(5);
    expect(ws.length).toBeGreaterThan(5);
    expect(http.filter((v) => !isSupportedVariable(v, HTTP_API_ACCESS_LOG_VARIABLES))).toEqual([]);
    expect(ws.filter((v) => !isSupportedVariable(v, WEBSOCKET_API_ACCESS_LOG_VARIABLES))).toEqual([]);
    // The two variables of the original fault are each on the side that lacks them.
    expect(isSupportedVariable('$context.connectionId', HTTP_API_ACCESS_LOG_VARIABLES)).toBe(false);
    expect(isSupportedVariable('$context.responseLength', WEBSOCKET_API_ACCESS_LOG_VARIABLES)).toBe(false);
    expect(isSupportedVariable('$context.authorizer.agentId', WEBSOCKET_API_ACCESS_LOG_VARIABLES)).toBe(true);
    expect(isSupportedVariable('$context.authorizer.a.b', WEBSOCKET_API_ACCESS_LOG_VARIABLES)).toBe(false);
  });

  it('log no PHI: no body, query string, header or request path', () => {
    for (const format of [HTTP_ACCESS_LOG_FORMAT, WEBSOCKET_ACCESS_LOG_FORMAT]) {
      expect(format).not.toMatch(/\$input|\$request|body|querystring|header|\$context\.path/i);
    }
  });

  it('are the ones the stages use', () => {
    const stages = resourcesOf(templateOf('WebSocket access logs, role created'), 'AWS::ApiGatewayV2::Stage');
    const formats = stages.map(([, s]) => s.Properties?.AccessLogSettings?.Format as string).sort();
    expect(formats).toEqual([HTTP_ACCESS_LOG_FORMAT, WEBSOCKET_ACCESS_LOG_FORMAT].sort());
  });
});

describe('WebSocket access logging and the account CloudWatch role', () => {
  it('is off by default, so a fresh account (no role) deploys', () => {
    const [, ws] = resourcesOf(templateOf('IAM auth (default)'), 'AWS::ApiGatewayV2::Stage').find(([id]) => id.includes('RelayStage'))!;
    expect(ws.Properties?.AccessLogSettings).toBeUndefined();
    expect(resourcesOf(templateOf('IAM auth (default)'), 'AWS::ApiGateway::Account')).toHaveLength(0);
  });

  it('create-account-role sets the role before the stage is created, and keeps the role on stack deletion', () => {
    const t = templateOf('WebSocket access logs, role created');
    const [[accountId, account]] = resourcesOf(t, 'AWS::ApiGateway::Account');
    const roleId = (account.Properties?.CloudWatchRoleArn as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    expect(t.Resources[roleId].DeletionPolicy).toBe('Retain');
    expect(JSON.stringify(t.Resources[roleId].Properties)).toContain('apigateway.amazonaws.com');
    const [, ws] = resourcesOf(t, 'AWS::ApiGatewayV2::Stage').find(([id]) => id.includes('RelayStage'))!;
    expect(ws.DependsOn).toContain(accountId);
  });
});

describe('custom domains', () => {
  it('map both APIs to their domains, and the URLs and CNAME targets say so', () => {
    const t = templateOf('custom domains, no reserved concurrency');
    const names = resourcesOf(t, 'AWS::ApiGatewayV2::DomainName').map(([, d]) => d.Properties!.DomainName as string);
    expect(names.sort()).toEqual(['api.example.com', 'relay.example.com']);
    expect(resourcesOf(t, 'AWS::ApiGatewayV2::ApiMapping')).toHaveLength(2);
    const outputs = t.Outputs as Record<string, { Value: unknown }>;
    expect(outputs.PushApiUrl.Value).toBe('https://api.example.com/');
    expect(outputs.RelayWebSocketUrl.Value).toBe('wss://relay.example.com');
    expect(outputs.PushApiDomainTarget).toBeDefined();
    expect(outputs.RelayDomainTarget).toBeDefined();
    for (const [, f] of resourcesOf(t, 'AWS::Lambda::Function')) expect(f.Properties!.ReservedConcurrentExecutions).toBeUndefined();
  });
});

describe('npx cdk synth (the real CLI, cdk.json as shipped)', () => {
  const outdirs: string[] = [];
  afterAll(() => outdirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it.each([
    ['iam', []],
    ['jwt', ['-c', 'auth=jwt', '-c', `jwtIssuer=${JWT.jwtIssuer}`, '-c', `jwtAudience=${JWT.jwtAudience}`]],
  ])(
    'passes every rule with auth=%s',
    async (_mode, args) => {
      const out = mkdtempSync(path.join(tmpdir(), 'edgepush-cdk-cli-'));
      outdirs.push(out);
      await run('npx', ['cdk', 'synth', '-q', '-o', out, ...args], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
      const file = readdirSync(out).find((f) => f.endsWith('.template.json'));
      expect(file).toBe('EdgePush-dev.template.json');
      const template = JSON.parse(readFileSync(path.join(out, file!), 'utf8')) as CfnTemplate;
      for (const rule of SPEC_RULES) expect({ rule: rule.id, violations: rule.check(template) }).toEqual({ rule: rule.id, violations: [] });
    },
    180000,
  );

  it('a bad context value is one clear line, not a stack trace', async () => {
    const failed = await run('npx', ['cdk', 'synth', '-q', '-c', 'stage=Prod!'], { cwd: ROOT }).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).not.toBe(0);
    expect(failed?.stderr).toContain('EdgePush: -c stage must be lower-case letters and digits (dev, prod), not Prod!');
    expect(failed?.stderr).not.toMatch(/\n\s+at /);
  }, 120000);
});
