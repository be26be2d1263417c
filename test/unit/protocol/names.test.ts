/**
 * One rule for agent ids and device names, applied by the API, the relay's config and the
 * protocol validator alike: a name one side accepts, the other accepts too.
 */
import { validateAgentId } from '../../../lambdas/core/agent-service';
import { deviceName } from '../../../lambdas/core/push-request';
import { parseDeviceUrl, resolveConfig } from '../../../edge-agent/relay/config-schema';
import { isAgentId, isDeviceName, MAX_AGENT_ID_LENGTH, MAX_DEVICE_NAME_LENGTH, stripDevicePrefix } from '../../../protocol/names';
import { parseRelayMessage } from '../../../protocol/validate';

const accepts = (fn: () => unknown): boolean => {
  try {
    fn();
    return true;
  } catch (err) {
    if (err instanceof Error) return false;
    throw err;
  }
};

const apiAcceptsDevice = (name: string) => accepts(() => deviceName(name));
const relayAcceptsDevice = (name: string) => accepts(() => parseDeviceUrl(name, 'mllp://127.0.0.1:2575'));
const helloAccepts = (name: string) =>
  accepts(() => parseRelayMessage(JSON.stringify({ action: 'hello', v: 1, version: '1', devices: [name] })));
const apiAcceptsAgent = (id: string) => accepts(() => validateAgentId(id));
const relayAcceptsAgent = (id: string) =>
  accepts(() => resolveConfig({ url: 'wss://cloud.example/ws', agentId: id, secret: 's', devices: ['lab=mllp://127.0.0.1:2575'] }));

describe('device names', () => {
  const names: [string, boolean][] = [
    ['lab', true],
    ['LAB-2.ward_3', true],
    ['0', true],
    ['d'.repeat(MAX_DEVICE_NAME_LENGTH), true],
    ['d'.repeat(MAX_DEVICE_NAME_LENGTH + 1), false],
    // `:` was accepted by the API and refused by the relay's config: a push that could never arrive.
    ['lab:1', false],
    ['lab=1', false],
    ['lab/1', false],
    ['lab 1', false],
    ['-lab', false],
    ['.lab', false],
    ['', false],
    ['läb', false],
  ];

  it.each(names)('%j: accepted=%s by the API, the relay config and the hello validator alike', (name, ok) => {
    expect(isDeviceName(name)).toBe(ok);
    expect(apiAcceptsDevice(name)).toBe(ok);
    expect(relayAcceptsDevice(name)).toBe(ok);
    expect(helloAccepts(name)).toBe(ok);
  });

  it('accepts Device/<name> as a destination in the API, under the same rule', () => {
    expect(deviceName('Device/lab')).toBe('lab');
    expect(apiAcceptsDevice('Device/lab:1')).toBe(false);
    expect(stripDevicePrefix('Device/lab')).toBe('lab');
    expect(stripDevicePrefix('lab')).toBe('lab');
  });
});

describe('agent ids', () => {
  const ids: [string, boolean][] = [
    ['site-1', true],
    ['Site_1.a', true],
    ['a'.repeat(MAX_AGENT_ID_LENGTH), true],
    // The relay allowed 128 while the cloud refused over 64: a relay that could never log in.
    ['a'.repeat(MAX_AGENT_ID_LENGTH + 1), false],
    ['site:1', false],
    ['site/1', false],
    ['_site', false],
    ['', false],
  ];

  it.each(ids)('%j: accepted=%s by the API and the relay config alike', (id, ok) => {
    expect(isAgentId(id)).toBe(ok);
    expect(apiAcceptsAgent(id)).toBe(ok);
    expect(relayAcceptsAgent(id)).toBe(ok);
  });
});
