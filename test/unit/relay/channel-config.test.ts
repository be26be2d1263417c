/** Channel URLs and the relay config's channels: every source, the defaults, and each mistake named. */
import { CHANNEL_DEFAULTS, parseChannelFlag, parseChannelUrl } from '../../../edge-agent/relay/channel-config';
import { ConfigError, resolveConfig, type RawConfig } from '../../../edge-agent/relay/config-schema';
import { configFromEnv, configFromFlags, mergeRaw } from '../../../edge-agent/relay/config-sources';

const base: RawConfig = { url: 'ws://127.0.0.1:8080/ws', agentId: 'agent-1', secret: 's' };

function problems(raw: RawConfig): string[] {
  try {
    resolveConfig({ ...base, ...raw });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('parseChannelUrl', () => {
  it('reads an MLLP channel with the defaults: fast, utf-8, 10 s', () => {
    expect(parseChannelUrl('lab', 'mllp://0.0.0.0:2575')).toStrictEqual({
      name: 'lab',
      protocol: 'mllp',
      host: '0.0.0.0',
      port: 2575,
      ack: 'fast',
      encoding: 'utf-8',
      timeoutMs: 10_000,
      ...CHANNEL_DEFAULTS.limits,
    });
  });

  it('reads ack, encoding and timeout in any order', () => {
    expect(parseChannelFlag('adt=mllp://[::1]:6661?timeout=2500ms&encoding=cp1252&ack=app')).toMatchObject({
      name: 'adt',
      host: '::1',
      port: 6661,
      ack: 'app',
      encoding: 'windows-1252',
      timeoutMs: 2_500,
    });
    expect(parseChannelUrl('c', 'mllp://127.0.0.1:1?ack=cloud&timeout=2m').timeoutMs).toBe(120_000);
  });

  it('reads an ASTM listening channel (the ASTM driver serves it)', () => {
    expect(parseChannelUrl('an', 'astm://0.0.0.0:4000?listen&ack=cloud&timeout=5s')).toMatchObject({
      protocol: 'astm',
      host: '0.0.0.0',
      port: 4000,
      ack: 'cloud',
      timeoutMs: 5_000,
      encoding: 'latin1',
    });
  });

  it.each([
    ['bad name', 'a b', 'mllp://0.0.0.0:1', /channel name "a b" must be/],
    ['not a URL', 'lab', 'nope', /is not a URL like mllp:\/\/0.0.0.0:2575/],
    ['scheme', 'lab', 'http://0.0.0.0:1', /scheme must be mllp:\/\/ or astm:\/\//],
    ['no port', 'lab', 'mllp://0.0.0.0', /needs a host and a port/],
    ['port range', 'lab', 'mllp://0.0.0.0:70000', /is not a URL|needs a host and a port/],
    ['ack', 'lab', 'mllp://0.0.0.0:1?ack=slow', /ack must be one of fast, cloud, app, got "slow"/],
    ['timeout', 'lab', 'mllp://0.0.0.0:1?timeout=soon', /timeout must be a duration from 100ms to 10m/],
    ['timeout too long', 'lab', 'mllp://0.0.0.0:1?timeout=1h', /timeout must be a duration/],
    ['encoding', 'lab', 'mllp://0.0.0.0:1?encoding=utf-16', /unknown encoding "utf-16"/],
    ['option', 'lab', 'mllp://0.0.0.0:1?foo=1', /unknown option "foo" \(ack, encoding, timeout\)/],
    ['path', 'lab', 'mllp://0.0.0.0:1/x', /only mllp:\/\/host:port/],
    ['astm dial', 'an', 'astm://10.0.0.5:4000', /is a device \(--device\)/],
  ])('refuses %s', (_what, name, url, message) => {
    expect(() => parseChannelUrl(name, url)).toThrow(message);
  });

  it('refuses a flag without name=', () => {
    expect(() => parseChannelFlag('mllp://0.0.0.0:1')).toThrow(/must look like name=mllp:\/\/0.0.0.0:2575/);
  });
});

describe('resolveConfig channels', () => {
  it('takes channels alone (no device), from a list or an object, with the inbound limits', () => {
    const cfg = resolveConfig({
      ...base,
      channels: { lab: 'mllp://0.0.0.0:2575', adt: 'mllp://0.0.0.0:2576?ack=cloud' },
      inbound: { maxMessageBytes: 4096, idleTimeoutMs: 1000, maxConnections: 5 },
    });
    expect(cfg.devices).toStrictEqual([]);
    expect(cfg.channels.map((c) => [c.name, c.ack, c.maxMessageBytes, c.idleTimeoutMs, c.maxConnections])).toStrictEqual([
      ['lab', 'fast', 4096, 1000, 5],
      ['adt', 'cloud', 4096, 1000, 5],
    ]);
    expect(cfg.dataDir).toBe('.edgepush-relay');
    expect(cfg.spool).toStrictEqual({ maxBytes: 256 * 1024 * 1024, fsync: true });
  });

  it('needs a device or a channel', () => {
    expect(problems({})).toStrictEqual([
      'at least one device or channel is required (--device name=mllp://host:port, --channel name=mllp://0.0.0.0:2575)',
    ]);
  });

  it('refuses a name twice, a port twice, and a channel named like an ASTM device', () => {
    expect(
      problems({
        devices: ['an=astm://10.0.0.5:4000'],
        channels: ['lab=mllp://0.0.0.0:1', 'lab=mllp://0.0.0.0:2', 'adt=mllp://0.0.0.0:1', 'an=mllp://0.0.0.0:3'],
      }),
    ).toStrictEqual([
      'channel lab is configured twice',
      "channel adt: port 1 is already channel lab's",
      'channel an: ASTM device an already receives on a channel of that name; name the channel otherwise',
    ]);
  });

  it('allows an MLLP device and a channel of the same name (a device is pushed to, a channel listens)', () => {
    expect(problems({ devices: ['lab=mllp://10.0.0.1:2575'], channels: ['lab=mllp://0.0.0.0:2575'] })).toStrictEqual([]);
  });

  it('names bad shapes and limits', () => {
    expect(problems({ channels: 'lab', inbound: { maxConnections: 0 }, spool: { maxBytes: 10, fsync: 'yes' }, dataDir: 3 })).toStrictEqual([
      'inbound.maxConnections must be an integer between 1 and 10000',
      'channels must be an object {name: "mllp://0.0.0.0:2575"} or a list of name=mllp://0.0.0.0:2575',
      'dataDir must be a directory path (--data DIR)',
      'spool.maxBytes must be an integer between 65536 and 1099511627776',
      'spool.fsync must be true or false',
    ]);
  });

  it('reads --channel and --data flags over EDGEPUSH_CHANNELS and STATE_DIRECTORY', () => {
    const env = configFromEnv({
      EDGEPUSH_CHANNELS: 'a=mllp://0.0.0.0:1, b=mllp://0.0.0.0:2',
      STATE_DIRECTORY: '/var/lib/edgepush-relay:/x',
    });
    expect(resolveConfig(mergeRaw(base, env)).channels.map((c) => c.name)).toStrictEqual(['a', 'b']);
    expect(resolveConfig(mergeRaw(base, env)).dataDir).toBe('/var/lib/edgepush-relay');
    const flags = configFromFlags({ channel: ['c=mllp://0.0.0.0:3?ack=app'], data: '/tmp/r' });
    const cfg = resolveConfig(mergeRaw(base, env, flags));
    expect(cfg.channels.map((c) => [c.name, c.ack])).toStrictEqual([['c', 'app']]);
    expect(cfg.dataDir).toBe('/tmp/r');
    expect(configFromEnv({ EDGEPUSH_DATA_DIR: '/d', STATE_DIRECTORY: '/s' }).dataDir).toBe('/d');
  });
});
