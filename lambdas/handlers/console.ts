/**
 * The web console's static files on AWS (GET /console, GET /console/{proxy+}). The built files
 * (dist/console/) are copied into this function's bundle at synth (lib/console-site.ts), so the
 * stack serves them itself: no bucket, no CDN, and nothing but CloudWatch Logs in its role.
 */
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { loadStaticSite, type StaticSite } from '../http/static-site';

export function createConsoleHandler(root: string): (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2> {
  let site: StaticSite | undefined;
  return (event) => {
    // Read once per container, on the first request: the files never change in a deployment.
    site ??= loadStaticSite(root);
    const { method, path: rawPath } = event.requestContext.http;
    const stage = event.requestContext.stage;
    // With a named stage the path API Gateway passes includes it (as in http.ts).
    const prefix = stage && stage !== '$default' ? `/${stage}` : '';
    const path = prefix && rawPath.startsWith(`${prefix}/`) ? rawPath.slice(prefix.length) : rawPath;
    const res = site.respond(method, path);
    return Promise.resolve({ statusCode: res.status, headers: res.headers, body: res.body });
  };
}

/** The bundle's layout: index.js beside console/ (the commandHooks copy in lib/console-site.ts). */
export const handler = createConsoleHandler(join(__dirname, 'console'));
