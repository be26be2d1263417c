/** The CLI's HTTP client: a failure to reach the API says why, not just "fetch failed". */
import { ApiError, callApi } from '../../bin/api-client';
import { freePort } from '../support/free-port';

describe('callApi', () => {
  it('names the cause when nothing listens', async () => {
    const port = await freePort();
    await expect(callApi({ api: `http://127.0.0.1:${port}`, token: 't' }, 'GET', '/health')).rejects.toThrow(
      new ApiError(
        0,
        'UNREACHABLE',
        `cannot reach http://127.0.0.1:${port}: connection refused (is the hub running at http://127.0.0.1:${port}?)`,
      ),
    );
  });

  it('names the cause when fetch refuses the port itself (a hub run with --port 6666 or 6000)', async () => {
    const err = await callApi({ api: 'http://127.0.0.1:6666', token: 't' }, 'GET', '/health').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:6666: .*bad port/);
  });
});
