/**
 * `edgepush template put|list|get|render|from-sample` as child processes against a real hub:
 * exit codes (0 done, 1 the API refused, 2 usage), what each prints, and a template proposed
 * from a sample that renders the sample back.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMessage } from '../../hl7/reader';
import { runToEnd, startHub, stopAll, tempDir, token, type HubProc } from '../e2e/harness';

const SAMPLE =
  'MSH|^~\\&|LIS|LAB|||20240101120000||ORU^R01^ORU_R01|X1|P|2.5.1\n' +
  'PID|1||M123^^^HOSP^MR||Doe^Jane||19800229|F\n' +
  'OBX|1|NM|GLU^Glucose||5.4|mmol/L\n' +
  'OBX|2|NM|K^Potassium||4.1|mmol/L\n';
const EXAMPLE = {
  patient: { mrn: 'M123', family: 'Doe', given: 'Jane', birthDate: '1980-02-29', sex: 'F' },
  results: [
    { code: 'GLU', name: 'Glucose', value: 5.4, unit: 'mmol/L' },
    { code: 'K', name: 'Potassium', value: '4.1', unit: 'mmol/L' },
  ],
};

let dir: { path: string; remove(): void };
let hub: HubProc;
let admin: string;
let pusher: string;
const file = (name: string, content: string): string => {
  const p = join(dir.path, name);
  writeFileSync(p, content);
  return p;
};

beforeAll(async () => {
  dir = tempDir();
  hub = await startHub(join(dir.path, 'hub'));
  admin = await token(join(dir.path, 'hub'), ['edgepush/admin']);
  pusher = await token(join(dir.path, 'hub'), ['edgepush/push']);
}, 30000);
afterAll(async () => {
  await stopAll();
  dir.remove();
});

describe('edgepush template', () => {
  it('from-sample proposes paths for values found in the JSON, an each for repeated segments, constants elsewhere', async () => {
    const r = await runToEnd([
      'template',
      'from-sample',
      '--er7',
      file('sample.er7', SAMPLE),
      '--json',
      file('example.json', JSON.stringify(EXAMPLE)),
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.messageType).toBe('ORU^R01^ORU_R01');
    expect(doc.segments).toEqual([
      {
        segment: 'PID',
        fields: {
          '1': '1',
          '3': [{ path: '$.patient.mrn' }, '', '', 'HOSP', 'MR'],
          '5': [{ path: '$.patient.family' }, { path: '$.patient.given' }],
          '7': { path: '$.patient.birthDate', format: 'date' },
          '8': { path: '$.patient.sex' },
        },
      },
      {
        segment: 'OBX',
        each: '$.results',
        fields: {
          '1': { setId: true },
          '2': 'NM',
          '3': [{ path: '@.code' }, { path: '@.name' }],
          '5': { path: '@.value' },
          '6': { path: '@.unit' },
        },
      },
    ]);
    writeFileSync(join(dir.path, 'proposed.json'), r.stdout);
  });

  it('put stores it, list shows it, render previews it: the sample comes back but for MSH-7 and MSH-10', async () => {
    const api = ['--api', hub.url];
    const put = await runToEnd(['template', 'put', 'oru', '--file', join(dir.path, 'proposed.json'), ...api, '--token', admin]);
    expect(put.stderr).toBe('');
    expect(put.code).toBe(0);
    expect(JSON.parse(put.stdout)).toMatchObject({ name: 'oru', target: 'hl7v2' });

    const list = await runToEnd(['template', 'list', ...api, '--token', pusher]);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).templates.map((t: { name: string }) => t.name)).toEqual(['oru']);

    const render = await runToEnd([
      'template',
      'render',
      'oru',
      '--data',
      file('data.json', JSON.stringify(EXAMPLE)),
      ...api,
      '--token',
      pusher,
    ]);
    expect(render.code).toBe(0);
    const ours = readMessage(render.stdout.replace(/\n/g, '\r')).segments;
    const sample = readMessage(SAMPLE.replace(/\n/g, '\r')).segments;
    expect(ours[0][10]).toBe('PREVIEW');
    expect(ours.slice(1)).toEqual(sample.slice(1));
  });

  it('exits 1 when the API refuses (naming the bad rule) and 2 on usage errors', async () => {
    const api = ['--api', hub.url, '--token', admin];
    const bad = file(
      'bad.json',
      JSON.stringify({ target: 'hl7v2', messageType: 'ORU^R01', segments: [{ segment: 'PID', fields: { '3': { path: 'mrn' } } }] }),
    );
    const refused = await runToEnd(['template', 'put', 'bad', '--file', bad, ...api]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('segments[0].fields[3].path');

    const unknown = await runToEnd(['template', 'render', 'nope', '--data', file('d.json', '{}'), '--api', hub.url, '--token', pusher]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no template named nope');

    const missing = await runToEnd(['template', 'put', 'x', '--file', join(dir.path, 'absent.json'), ...api]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('ENOENT');
    const notJson = await runToEnd(['template', 'from-sample', '--er7', file('s.er7', SAMPLE), '--json', file('n.json', '{nope')]);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('is not JSON');
    const noApi = await runToEnd(['template', 'list'], { EDGEPUSH_API: '', EDGEPUSH_TOKEN: '' });
    expect(noApi.code).toBe(2);
    // A push token may not store templates: a configuration error (2), as for every 403.
    const forbidden = await runToEnd([
      'template',
      'put',
      'oru2',
      '--file',
      join(dir.path, 'proposed.json'),
      '--api',
      hub.url,
      '--token',
      pusher,
    ]);
    expect(forbidden.code).toBe(2);
  });
});
