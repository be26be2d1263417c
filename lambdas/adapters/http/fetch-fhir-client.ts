/** FhirClient over fetch, for both adapter sets (the hub and the Lambdas reach FHIR servers the same way). */
import type { FhirClient } from '../../core/ports';

const TIMEOUT_MS = 10_000;
const MAX_BYTES = 4 * 1024 * 1024;

export class FetchFhirClient implements FhirClient {
  async read(baseUrl: string, token: string | undefined, type: string, id: string): Promise<unknown> {
    const url = `${baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(type)}/${encodeURIComponent(id)}`;
    const headers: Record<string, string> = { accept: 'application/fhir+json' };
    if (token) headers.authorization = `Bearer ${token}`;
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' });
    } catch (err) {
      throw new Error(`GET ${type}/${id}: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) throw new Error(`GET ${type}/${id} answered ${res.status}`);
    if (text.length > MAX_BYTES) throw new Error(`GET ${type}/${id}: the resource is over ${MAX_BYTES} bytes`);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new Error(`GET ${type}/${id}: the answer is not JSON`);
    }
  }
}
