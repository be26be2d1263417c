import { parseAstmUrl } from '../../../edge-agent/astm/astm-url';

describe('ASTM device and channel URLs', () => {
  it('reads the three forms, with latin1 as the default character set', () => {
    expect(parseAstmUrl('astm://10.1.2.3:5000')).toEqual({ kind: 'dial', host: '10.1.2.3', port: 5000, encoding: 'latin1' });
    expect(parseAstmUrl('astm://0.0.0.0:6000?listen&encoding=utf-8')).toEqual({
      kind: 'listen',
      host: '0.0.0.0',
      port: 6000,
      encoding: 'utf-8',
    });
    expect(parseAstmUrl('astm+serial:///dev/ttyUSB0?baud=19200&databits=7&parity=even&stopbits=2')).toEqual({
      kind: 'serial',
      path: '/dev/ttyUSB0',
      baudRate: 19200,
      dataBits: 7,
      parity: 'even',
      stopBits: 2,
      encoding: 'latin1',
    });
    expect(parseAstmUrl('astm+serial:///dev/ttyS0')).toMatchObject({ baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
    expect(parseAstmUrl('astm://[::1]:7000')).toMatchObject({ host: '::1', port: 7000 });
  });

  it('carries the ACK mode of what the analyser sends, when given', () => {
    expect(parseAstmUrl('astm://0.0.0.0:6000?listen&ack=cloud')).toEqual({
      kind: 'listen',
      host: '0.0.0.0',
      port: 6000,
      encoding: 'latin1',
      ack: 'cloud',
    });
    expect(parseAstmUrl('astm+serial:///dev/ttyS0?ack=app')).toMatchObject({ kind: 'serial', ack: 'app' });
    expect(parseAstmUrl('astm://10.0.0.1:5000')).not.toHaveProperty('ack');
  });

  it.each([
    ['astm://host', /needs a host and a port/],
    ['mllp://host:1', /scheme must be astm/],
    ['astm+serial://dev/ttyUSB0', /three slashes/],
    ['astm+serial:///dev/ttyUSB0?baud=9601', /baud must be one of/],
    ['astm+serial:///dev/ttyUSB0?parity=maybe', /parity must be one of/],
    ['astm+serial:///dev/ttyUSB0?databits=9', /databits must be/],
    ['astm+serial:///dev/ttyUSB0?stopbits=3', /stopbits must be/],
    ['astm+serial:///dev/ttyUSB0?listen', /listen applies to astm:\/\/ URLs only/],
    ['astm://h:1?baud=9600', /applies to astm\+serial/],
    ['astm://h:1?colour=red', /unknown parameter colour/],
    ['astm://h:1?listen&ack=later', /ack must be one of fast, cloud, app, got later/],
    ['not a url', /is not a URL/],
  ])('refuses %s with a message saying what to write', (url, message) => {
    expect(() => parseAstmUrl(url)).toThrow(message);
  });
});
