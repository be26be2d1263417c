/**
 * The web console on AWS: the stack serves it itself, from a function whose bundle holds the
 * built files. Synthesised like `cdk synth`; the bundled handler is then run as Lambda would.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CONSOLE_ROUTE_KEYS } from '../../lambdas/http/routes';
import { cleanUp, resourcesOf, synth, type Synth } from './synth';

afterAll(cleanUp);

describe('the console on AWS', () => {
  let s: Synth;
  beforeAll(() => {
    s = synth();
  }, 180000);

  it('routes GET /console and /console/{proxy+} to the console function, without an authorizer', () => {
    const fnId = resourcesOf(s.template, 'AWS::Lambda::Function').find(([id]) => id.startsWith('EdgePushConsoleFunction'))![0];
    const integrations = resourcesOf(s.template, 'AWS::ApiGatewayV2::Integration').filter(([, r]) =>
      JSON.stringify(r.Properties!.IntegrationUri).includes(fnId),
    );
    expect(integrations).toHaveLength(1);
    const [integrationId] = integrations[0];
    const routes = resourcesOf(s.template, 'AWS::ApiGatewayV2::Route').filter(([, r]) =>
      JSON.stringify(r.Properties!.Target).includes(integrationId),
    );
    expect(routes.map(([, r]) => [r.Properties!.RouteKey, r.Properties!.AuthorizationType]).sort()).toStrictEqual(
      CONSOLE_ROUTE_KEYS.map((k) => [k, 'NONE']).sort(),
    );
    expect(s.report.pluginReports[0].violations).toEqual([]);
  });

  it('gives the function nothing but its own log group', () => {
    const policies = resourcesOf(s.template, 'AWS::IAM::Policy').filter(([id]) => id.startsWith('EdgePushConsoleRole'));
    expect(policies).toHaveLength(1);
    const statements = policies[0][1].Properties!.PolicyDocument.Statement as { Action: string[]; Resource: unknown }[];
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toStrictEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(JSON.stringify(statements[0].Resource)).toMatch(/EdgePushconsoleLogs/);
    const [, fn] = resourcesOf(s.template, 'AWS::Lambda::Function').find(([id]) => id.startsWith('EdgePushConsoleFunction'))!;
    expect(fn.Properties!.Environment).toBeUndefined();
  });

  it('bundles the built files, and the deployed handler serves them with the console headers', () => {
    const [, fn] = resourcesOf(s.template, 'AWS::Lambda::Function').find(([id]) => id.startsWith('EdgePushConsoleFunction'))!;
    const assetDir = path.join(s.outdir, (fn.Metadata as { 'aws:asset:path': string })['aws:asset:path']);
    expect(existsSync(path.join(assetDir, 'console', 'index.html'))).toBe(true);
    const script = readdirSync(path.join(assetDir, 'console', 'assets')).find((f) => f.endsWith('.js'))!;
    expect(script).toMatch(/^app-[A-Z0-9]+\.js$/);

    const runner = path.join(s.outdir, 'console-runner.js');
    const event = (p: string, stage = '$default') => ({ rawPath: p, requestContext: { http: { method: 'GET', path: p }, stage } });
    writeFileSync(
      runner,
      `const { handler } = require(${JSON.stringify(path.join(assetDir, 'index.js'))});
       const events = JSON.parse(process.argv[2]);
       Promise.all(events.map((e) => handler(e))).then((rs) => process.stdout.write(JSON.stringify(rs)));`,
    );
    const events = [
      event('/console/'),
      event(`/console/assets/${script}`),
      event('/console'),
      event('/console/../index.js'),
      event('/console/%2e%2e/index.js'),
      event('/prod/console/', 'prod'),
    ];
    const results = JSON.parse(execFileSync(process.execPath, [runner, JSON.stringify(events)], { encoding: 'utf8' })) as {
      statusCode: number;
      headers: Record<string, string>;
      body: string;
    }[];
    const [index, asset, bare, up, encodedUp, staged] = results;
    expect(index.statusCode).toBe(200);
    expect(index.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      'content-security-policy': expect.stringContaining("default-src 'self'"),
    });
    expect(index.body).toContain(`assets/${script}`);
    expect(asset).toMatchObject({ statusCode: 200, headers: { 'cache-control': 'public, max-age=31536000, immutable' } });
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(bare).toMatchObject({ statusCode: 301, headers: { location: 'console/' } });
    expect(up.statusCode).toBe(404);
    expect(encodedUp.statusCode).toBe(404);
    expect(up.body).not.toContain('handler');
    expect(staged.statusCode).toBe(200);
  });
});
