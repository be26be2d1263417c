/** The relay's small parts on their own: config parsing, UTF-8 splitting, cache, outbox. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseDeviceUrl, resolveConfig } from '../../../edge-agent/relay/config-schema';
import { configFromEnv, configFromFlags, mergeRaw, readConfigFile } from '../../../edge-agent/relay/config-sources';
import { splitUtf8 } from '../../../edge-agent/relay/frame-sender';
import { Outbox } from '../../../edge-agent/relay/outbox';
import { ResultCache } from '../../../edge-agent/relay/result-cache';

describe('config', () => {
  const base = { url: 'wss://cloud.example/ws', agentId: 'a1', secret: 's' };

  it('parses device URLs with encodings and IPv6 hosts', () => {
    expect(parseDeviceUrl('lab', 'mllp://10.1.2.3:2575?encoding=windows-1252')).toEqual({
      name: 'lab',
      protocol: 'mllp',
      host: '10.1.2.3',
      port: 2575,
      encoding: 'windows-1252',
    });
    expect(parseDeviceUrl('ris', 'mllp://[::1]:6661')).toEqual({
      name: 'ris',
      protocol: 'mllp',
      host: '::1',
      port: 6661,
      encoding: 'utf-8',
    });
  });

  it('parses ASTM devices: TCP the relay dials, or a serial line; an analyser that dials in is not a device', () => {
    expect(parseDeviceUrl('chem', 'astm://10.1.2.4:5000')).toMatchObject({
      name: 'chem',
      protocol: 'astm',
      host: '10.1.2.4',
      port: 5000,
      encoding: 'latin1',
      astm: { kind: 'dial' },
    });
    expect(parseDeviceUrl('urine', 'astm+serial:///dev/ttyUSB0?baud=9600&parity=even')).toMatchObject({
      protocol: 'astm',
      astm: { kind: 'serial', path: '/dev/ttyUSB0', baudRate: 9600, parity: 'even' },
    });
    expect(() => parseDeviceUrl('chem', 'astm://0.0.0.0:5000?listen')).toThrow(/is a channel, not a device/);
    expect(() => parseDeviceUrl('chem', 'astm+serial:///dev/ttyS0?baud=9601')).toThrow(/device chem: baud must be one of/);
  });

  it.each([
    ['bad name!', 'mllp://h:1', /device name/],
    ['lab', 'mllp://h:1/path', /only mllp:\/\/host:port/],
    ['lab', 'mllp://h:1?timeout=3', /unknown option "timeout"/],
    ['lab', 'mllp://h:70000', /not a URL|needs a port/],
  ])('refuses device %s=%s', (name, url, message) => {
    expect(() => parseDeviceUrl(name, url)).toThrow(message);
  });

  it('refuses an encoding the MLLP client cannot use (iconv knows it, framing would break or the first push would crash)', () => {
    expect(() => parseDeviceUrl('lab', 'mllp://h:1?encoding=utf-16le')).toThrow(/encoding/);
    expect(() => parseDeviceUrl('lab', 'mllp://h:1?encoding=iso-8859-2')).toThrow(/encoding/);
    expect(() => resolveConfig({ ...base, devices: { lab: 'mllp://h:1?encoding=utf16' } })).toThrow(ConfigError);
    // The names the client does accept, in any case, come out canonical.
    expect(parseDeviceUrl('lab', 'mllp://h:1?encoding=CP1252').encoding).toBe('windows-1252');
  });

  it('reports a malformed config file without echoing its text (it holds the secret)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-config-'));
    try {
      const cases = [
        '{"url": "wss://h/ws", "agentId": "a1", "secret": TOPSECRET4711}', // the secret left unquoted
        '{"secret": "TOPSECRET4711", "agentId": a1}',
        '{"secret": "TOPSECRET4711",\n  "devices": {},\n}',
      ];
      for (const [i, text] of cases.entries()) {
        const file = join(dir, `relay${i}.json`);
        writeFileSync(file, text);
        let message = '';
        try {
          readConfigFile(file);
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          message = (err as Error).message;
        }
        expect(message).toMatch(/is not valid JSON/);
        expect(message).not.toContain('TOPSECRET');
        expect(message).not.toContain('4711');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fills defaults: 60 s heartbeat, 110 min rotation, 30 s backoff cap', () => {
    const c = resolveConfig({ ...base, devices: { lab: 'mllp://h:1' } });
    expect(c).toMatchObject({ heartbeatIntervalMs: 60_000, maxConnectionAgeMs: 110 * 60_000, reconnect: { maxDelayMs: 30_000 } });
  });

  it('lists every problem at once', () => {
    try {
      resolveConfig({ url: 'ftp://x', devices: { lab: 5 }, heartbeatIntervalMs: 'soon', reconnect: 3 });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toMatch(/ws:\/\/ or wss:\/\//);
      expect(problems).toMatch(/agent id is required/);
      expect(problems).toMatch(/device lab: value must be a string/);
      expect(problems).toMatch(/heartbeatIntervalMs must be an integer/);
      expect(problems).toMatch(/reconnect must be an object/);
    }
  });

  it('refuses plain ws:// to another host unless told the network is trusted', () => {
    const devices = { lab: 'mllp://h:1' };
    const problemsOf = (raw: object) => {
      try {
        resolveConfig({ agentId: 'a', secret: 's', devices, ...raw });
        return '';
      } catch (err) {
        return (err as ConfigError).problems.join('\n');
      }
    };
    expect(problemsOf({ url: 'ws://hub.hospital.example/ws' })).toMatch(/plain ws:\/\/ to another host: use wss:\/\//);
    expect(problemsOf({ url: 'ws://10.1.2.3:8080/ws' })).toMatch(/plain ws:\/\//);
    // This machine, TLS, or an explicit opt-in are fine.
    for (const url of ['ws://127.0.0.1:8080/ws', 'ws://localhost:8080/ws', 'ws://[::1]:8080/ws', 'wss://hub.hospital.example/ws']) {
      expect(problemsOf({ url })).toBe('');
    }
    expect(problemsOf({ url: 'ws://10.1.2.3:8080/ws', allowInsecure: true })).toBe('');
    expect(
      resolveConfig(
        mergeRaw({ url: 'ws://10.1.2.3/ws', agentId: 'a', secret: 's', devices }, configFromEnv({ EDGEPUSH_ALLOW_INSECURE: '1' })),
      ).allowInsecure,
    ).toBe(true);
  });

  it('reads EDGEPUSH_* and lets later sources win, merging nested objects', () => {
    const env = configFromEnv({
      EDGEPUSH_URL: 'wss://e/ws',
      EDGEPUSH_AGENT_ID: 'env',
      EDGEPUSH_AGENT_SECRET: 'x',
      EDGEPUSH_DEVICES: 'a=mllp://h:1, b=mllp://h:2',
    });
    const merged = mergeRaw({ agentId: 'file', reconnect: { initialDelayMs: 5, maxDelayMs: 9 } }, env, { reconnect: { maxDelayMs: 7 } });
    const c = resolveConfig(merged);
    expect(c.agentId).toBe('env');
    expect(c.devices.map((d) => d.name)).toEqual(['a', 'b']);
    expect(c.reconnect).toEqual({ initialDelayMs: 5, maxDelayMs: 7 });
  });

  it('flags win over the environment and the file; unset flags leave them be', () => {
    const file = { url: 'wss://file/ws', agentId: 'file', secret: 's', devices: ['a=mllp://h:1'], logLevel: 'warn' };
    const env = configFromEnv({ EDGEPUSH_AGENT_ID: 'env', EDGEPUSH_LOG_LEVEL: 'debug' });
    const flags = configFromFlags({ agent: 'flag', device: [], heartbeat: '15000' });
    const c = resolveConfig(mergeRaw(file, env, flags));
    expect(c).toMatchObject({ url: 'wss://file/ws', agentId: 'flag', logLevel: 'debug', heartbeatIntervalMs: 15_000 });
    expect(c.devices.map((d) => d.name)).toEqual(['a']);
  });
});

describe('splitUtf8', () => {
  it('never cuts a multi-byte character and keeps every byte', () => {
    const text = 'a€'.repeat(1000) + '😀'.repeat(500);
    const buf = Buffer.from(text);
    const chunks = splitUtf8(buf, 1001);
    expect(chunks.every((c) => c.length <= 1001)).toBe(true);
    expect(Buffer.concat(chunks).equals(buf)).toBe(true);
    for (const c of chunks) expect(Buffer.from(c.toString('utf8')).equals(c)).toBe(true);
  });
});

describe('ResultCache', () => {
  it('evicts the least recently used entry and expires old ones', () => {
    let now = 0;
    const cache = new ResultCache<string>({ maxEntries: 2, ttlMs: 1_000, now: () => now });
    cache.set('a', 'A');
    cache.set('b', 'B');
    expect(cache.get('a')).toBe('A'); // a is now the most recent
    cache.set('c', 'C');
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe('A');
    now = 1_001;
    expect(cache.get('a')).toBeUndefined();
  });

  it('tracks in-flight pushes and can forget a result on finish', () => {
    const cache = new ResultCache<string>({ maxEntries: 10, ttlMs: 1_000 });
    expect(cache.begin('p')).toBe(true);
    expect(cache.begin('p')).toBe(false);
    cache.finish('p', undefined);
    expect(cache.isInFlight('p')).toBe(false);
    expect(cache.get('p')).toBeUndefined();
  });
});

describe('Outbox', () => {
  const result = (pushId: string) => ({ action: 'result' as const, v: 1, pushId, status: 'failed' as const, error: 'e' });

  it('keeps results until acknowledged, oldest first, bounded', async () => {
    const box = new Outbox(2);
    box.add(result('a'));
    box.add(result('b'));
    expect(box.add(result('c'))).toBe('a');
    expect(box.all().map((r) => r.pushId)).toEqual(['b', 'c']);
    expect(box.ack('x')).toBe(false);
    const empty = box.waitEmpty(1_000);
    box.ack('b');
    box.ack('c');
    await expect(empty).resolves.toBe(true);
    box.add(result('d'));
    await expect(box.waitEmpty(10)).resolves.toBe(false);
  });
});
