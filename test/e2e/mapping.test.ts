/**
 * Mapping end to end with real processes (`edgepush hub`, `edgepush relay`, an `edgepush hl7
 * listen` device): a push with template + data, and the README's Medplum Subscription posting a
 * ServiceRequest the way Medplum's rest-hook does (the resource as the body, the Subscription's
 * channel.header as headers). The device gets exact HL7 with MSH-10 = controlIdForPush(pushId).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { controlIdForPush } from '../../hl7/control-id';
import { readMessage } from '../../hl7/reader';
import { waitFor } from '../support/wait';
import { http, runToEnd, startDevice, startHub, startRelay, stopAll, tempDir, token, type HubProc, type Proc } from './harness';

const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

/** The README's Subscription resource, as a user would paste it into Medplum. */
function readmeSubscription(): { channel: { type: string; endpoint: string; payload: string; header: string[] } } {
  const block = [...README.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b.includes('"resourceType": "Subscription"'));
  if (!block) throw new Error('README has no Subscription example');
  return JSON.parse(block) as ReturnType<typeof readmeSubscription>;
}

describe('e2e: mapping through hub, relay and device', () => {
  const dir = tempDir();
  let hub: HubProc;
  let device: Proc & { port: number };
  let tok: string;
  let pushToken: string;
  const AGENT = 'site-1';

  beforeAll(async () => {
    hub = await startHub(dir.path);
    [tok, pushToken] = await Promise.all([token(dir.path), token(dir.path, ['edgepush/push'])]);
    device = await startDevice(0, 'AA');
    const created = await runToEnd(['agent', 'create', AGENT, '--api', hub.url, '--token', tok]);
    const { secret } = JSON.parse(created.stdout) as { secret: string };
    startRelay(hub.wsUrl, AGENT, secret, { lab: device.port });
    await waitFor(async () => (await http(`${hub.url}/agents/${AGENT}`, { token: tok })).body.status === 'connected', 15_000, 'connected');
  }, 30_000);
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  /** The messages the device printed: each from an MSH line to the next blank line. */
  const received = () => {
    const messages: string[][] = [];
    let current: string[] | undefined;
    for (const line of device.stdout().split('\n')) {
      if (line.startsWith('MSH|')) messages.push((current = [line]));
      else if (line.trim() === '') current = undefined;
      else current?.push(line);
    }
    return messages.map((m) => readMessage(m.join('\r')).segments);
  };

  it('a push with template + data is acked, and the device got the rendered message', async () => {
    const template = {
      target: 'hl7v2',
      messageType: 'ADT^A08^ADT_A01',
      timeZone: 'Europe/Berlin',
      segments: [
        { segment: 'EVN', fields: { '2': { path: '$.at', format: 'datetime' } } },
        { segment: 'PID', fields: { '3': { path: '$.mrn', required: true }, '5': [{ path: '$.family' }, { path: '$.given' }] } },
      ],
    };
    expect((await http(`${hub.url}/templates/adt`, { method: 'PUT', token: tok, body: template })).status).toBe(201);
    const res = await http(`${hub.url}/agents/${AGENT}/push`, {
      token: pushToken,
      body: {
        destination: 'lab',
        template: 'adt',
        data: { mrn: 'M|1', family: 'Ørsted^', given: 'H~C', at: '2024-07-01T12:00:00.05+02:00' },
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('acked');
    const got = await waitFor(
      () => received().find((m) => m[0][10] === controlIdForPush(res.body.pushId as string)),
      5000,
      'device got it',
    );
    expect(got.map((s) => s[0])).toStrictEqual(['MSH', 'EVN', 'PID']);
    expect(got[1][2]).toBe('20240701120000.050+0200');
    expect(got[2][3]).toBe('M|1');
    expect(got[2][5]).toStrictEqual(['Ørsted^', 'H~C']);
  });

  it("the README's Medplum Subscription: what Medplum posts becomes one ORM^O01 on the device, once", async () => {
    const { channel } = readmeSubscription();
    expect(channel.type).toBe('rest-hook');
    // The hub stands in for https://edgepush.example.org; the header carries a real push token.
    const url = new URL(channel.endpoint);
    const endpoint = `${hub.url}${url.pathname}`;
    const headers: Record<string, string> = { 'content-type': channel.payload };
    for (const h of channel.header) {
      const [name, ...value] = h.split(':');
      headers[name.trim().toLowerCase()] = value
        .join(':')
        .trim()
        .replace(/<[^>]+>/, pushToken);
    }
    const serviceRequest = {
      resourceType: 'ServiceRequest',
      id: 'sr-medplum-1',
      meta: { versionId: 'b6e1', lastUpdated: '2024-07-01T10:00:00.000Z' },
      status: 'active',
      intent: 'order',
      category: [{ coding: [{ system: 'http://snomed.info/sct', code: '108252007' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '2345-7', display: 'Glucose' }] },
      subject: { reference: 'Patient/pat-1', display: 'Jane Doe' },
      contained: [],
      identifier: [{ value: 'ORD-42' }],
    };
    // Medplum's rest-hook posts the resource alone; its Patient is referenced, not included. Give
    // the order a contained Patient as a Bundle-less server would need to.
    const body = JSON.stringify({
      ...serviceRequest,
      contained: [{ resourceType: 'Patient', id: 'p', name: [{ family: 'Doe', given: ['Jane'] }] }],
      subject: { reference: '#p' },
    });
    const post = () => fetch(endpoint, { method: 'POST', headers, body });
    const first = await post();
    expect(first.status).toBe(202);
    const { pushes } = (await first.json()) as { pushes: { pushId: string }[] };
    expect(pushes).toHaveLength(1);
    const pushId = pushes[0].pushId;
    await waitFor(async () => (await http(`${hub.url}/pushes/${pushId}`, { token: tok })).body.status === 'acked', 10_000, 'acked');
    const got = received().filter((m) => m[0][10] === controlIdForPush(pushId));
    expect(got).toHaveLength(1);
    expect(got[0][0][9]).toStrictEqual(['ORM', 'O01', 'ORM_O01']);
    expect(got[0].find((s) => s[0] === 'OBR')![4]).toStrictEqual(['2345-7', 'Glucose', 'LN']);

    // Medplum re-sends on a timeout: the same version is not pushed again.
    const again = await post();
    expect(again.status).toBe(200);
    expect(((await again.json()) as { pushes: { pushId: string; duplicate: boolean }[] }).pushes).toEqual([
      expect.objectContaining({ pushId, duplicate: true }),
    ]);
    const list = await http(`${hub.url}/pushes?agentId=${AGENT}`, { token: tok });
    expect(list.body.pushes.filter((p: { pushId: string }) => p.pushId === pushId)).toHaveLength(1);
    expect(list.body.pushes).toHaveLength(2);
  });
});
