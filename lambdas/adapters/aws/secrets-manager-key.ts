/**
 * SecretKey from a Secrets Manager secret the stack generates (the construct's
 * AgentSecretKey). Read once per Lambda container; a failed read is retried on next use
 * rather than cached. The key never leaves memory: not logged, not in env.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretKey } from '../../core/ports';

/** Shorter than this is not a key the stack generated (it makes 64 characters). */
const MIN_KEY_BYTES = 32;

export class SecretsManagerKey implements SecretKey {
  private loading: Promise<Buffer> | undefined;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string | undefined,
  ) {}

  get(): Promise<Buffer> {
    this.loading ??= this.load().catch((err: unknown) => {
      this.loading = undefined;
      throw err;
    });
    return this.loading;
  }

  private async load(): Promise<Buffer> {
    if (!this.secretId) throw new Error('EDGEPUSH_AGENT_KEY_SECRET is not set: the agent secret key is unavailable');
    const out = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    const key = out.SecretString !== undefined ? Buffer.from(out.SecretString, 'utf8') : Buffer.from(out.SecretBinary ?? []);
    if (key.length < MIN_KEY_BYTES) throw new Error(`the agent secret key ${this.secretId} is shorter than ${MIN_KEY_BYTES} bytes`);
    return key;
  }
}
