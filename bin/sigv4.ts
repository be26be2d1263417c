/**
 * `--sigv4`: signs API requests with AWS Signature Version 4 (service execute-api) using the
 * standard AWS credential chain (env, shared config/SSO profiles, web identity, container and
 * instance roles), for a deployment whose push API uses IAM auth. The signer and the chain are
 * optional peer dependencies, loaded only here, so a relay's install does not carry them.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';

export interface SigV4Options {
  /** From --region, AWS_REGION / AWS_DEFAULT_REGION, or the execute-api host name. */
  region: string;
}

export interface SignableRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

type Bytes = string | ArrayBuffer | ArrayBufferView;
const toBuffer = (data: Bytes): Buffer =>
  typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

/** The hash the signer needs, on node:crypto: SHA-256, or HMAC-SHA-256 when given a key. */
class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: Bytes) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: Bytes): void {
    this.hash.update(toBuffer(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

/** `abc.execute-api.eu-west-1.amazonaws.com` -> eu-west-1. */
export function regionOf(url: URL, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1];
}

async function load<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch {
    throw new Error(
      `--sigv4 needs the optional package ${name}: npm install @smithy/signature-v4@5.7.5 @aws-sdk/credential-provider-node@3.972.97`,
    );
  }
}

/** Returns the headers to send: the given ones plus authorization, x-amz-date (and the session token). */
export async function signRequest(req: SignableRequest, opts: SigV4Options): Promise<Record<string, string>> {
  const { SignatureV4 } = await load<typeof import('@smithy/signature-v4')>('@smithy/signature-v4');
  const { defaultProvider } = await load<typeof import('@aws-sdk/credential-provider-node')>('@aws-sdk/credential-provider-node');
  const signer = new SignatureV4({ service: 'execute-api', region: opts.region, credentials: defaultProvider(), sha256: Sha256 });
  const query: Record<string, string> = {};
  for (const [k, v] of req.url.searchParams) query[k] = v;
  const signed = await signer.sign({
    method: req.method,
    protocol: req.url.protocol,
    hostname: req.url.hostname,
    port: req.url.port ? Number(req.url.port) : undefined,
    path: req.url.pathname,
    query,
    // host is signed, as SigV4 requires; fetch sends the same value.
    headers: { ...req.headers, host: req.url.host },
    body: req.body,
  });
  const headers = { ...(signed.headers as Record<string, string>) };
  delete headers.host; // fetch sets it itself (and refuses to be given one)
  return headers;
}
