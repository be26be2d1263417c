/**
 * What the Lambdas log for one push, with logs and metrics on as deployed: CloudWatch Logs bills
 * by the byte, so each Lambda writes one line per push (and its metrics record), and no line
 * ever carries the message body or the device's ACK (PHI). Emulated AWS: the real handlers,
 * dynalite, fauxqs, the WebSocket gateway, the real relay and an HL7 listener.
 */
import pino from 'pino';
import { startHl7Listener, type Hl7Listener } from '../../edge-agent/mllp/listener';
import { resolveConfig } from '../../edge-agent/relay/config-schema';
import { Relay } from '../../edge-agent/relay/relay';
import { startEmulatedAws, type EmulatedAws } from './emulated-aws';

jest.setTimeout(60000);

let aws: EmulatedAws;
let device: Hl7Listener;
let relay: Relay;

beforeAll(async () => {
  aws = await startEmulatedAws({
    env: {
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_DISABLED: 'false',
      POWERTOOLS_SERVICE_NAME: 'edgepush',
      POWERTOOLS_METRICS_NAMESPACE: 'EdgePush',
    },
  });
  device = await startHl7Listener({ port: 0 });
}, 60000);

afterAll(async () => {
  await relay?.stop();
  await aws?.stop();
  await device?.close();
});

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(aws.httpUrl + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

it('logs one line per Lambda for a push, request details in the metrics record, and never the body', async () => {
  const agent = (await api('POST', '/agents', { agentId: 'log-site' })).json;
  relay = new Relay(
    resolveConfig({
      url: aws.wsUrl,
      agentId: agent.agentId,
      secret: agent.secret,
      devices: { lab: `mllp://127.0.0.1:${device.port}` },
      logLevel: 'silent',
    }),
    pino({ enabled: false }),
  );
  relay.start();
  for (let i = 0; i < 100 && !(await api('GET', '/agents/log-site')).json.devices?.length; i++) await new Promise((r) => setTimeout(r, 50));

  const secret = 'PID|1||SECRET-PATIENT-4711^^^HOSP||DOE^JANE';
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  };
  let res;
  try {
    res = await api('POST', '/agents/log-site/push', {
      destination: 'lab',
      body: `MSH|^~\\&|A|B|C|D|20240101||ADT^A01|LOG1|P|2.5\r${secret}\r`,
    });
    await new Promise((r) => setTimeout(r, 300)); // the dispatcher's and the result's lines
  } finally {
    process.stdout.write = write;
  }
  expect(res.status).toBe(200);
  const records = lines.map((l) => JSON.parse(l) as Record<string, any>);
  const messages = records.filter((r) => r.message !== undefined).map((r) => String(r.message));
  expect(messages).toStrictEqual(['push accepted', 'push dispatched', 'push finished']);
  const request = records.find((r) => r.PushRequest === 1);
  expect(request).toMatchObject({ method: 'POST', path: '/agents/log-site/push', httpStatus: '200', PushLatency: expect.any(Number) });
  expect(lines.join('\n')).not.toContain('SECRET-PATIENT');
  expect(lines.join('\n')).not.toContain('MSA|');
});
