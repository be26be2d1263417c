/**
 * Interop with a peer we did not write: @medplum/hl7's Hl7Server as the device for our client,
 * and its Hl7Client against our listener (in-process and the `edgepush hl7 listen` CLI).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Hl7Message } from '@medplum/core';
import { Hl7Client, Hl7Server, type Hl7MessageEvent } from '@medplum/hl7';
import { generateExampleAdt } from '../../hl7/example';
import { parseMsh } from '../../hl7/msh';
import { MllpDeviceClient } from '../../edge-agent/mllp/device-client';
import { startHl7Listener } from '../../edge-agent/mllp/listener';
import { message } from './support/fake-device';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function startMedplumServer(encoding?: string, onMessage?: (m: Hl7Message) => void): Promise<number> {
  const server = new Hl7Server((connection) => {
    connection.addEventListener('message', (event: Hl7MessageEvent) => {
      onMessage?.(event.message);
      event.connection.send(event.message.buildAck());
    });
  });
  server.start(0, encoding);
  await new Promise<void>((resolve) => server.server!.once('listening', resolve));
  cleanups.push(async () => {
    // Hl7Server.stop() waits for open connections; our clients are closed before this runs.
    await server.stop();
  });
  return (server.server!.address() as { port: number }).port;
}

function medplumClient(port: number, encoding?: string): Hl7Client {
  const client = new Hl7Client({ host: '127.0.0.1', port, encoding });
  cleanups.push(() => client.close());
  return client;
}

describe('our MllpDeviceClient -> @medplum/hl7 Hl7Server', () => {
  it('gets an ACK matched by MSA-2 for each of several messages on one connection', async () => {
    const port = await startMedplumServer();
    const client = new MllpDeviceClient({ host: '127.0.0.1', port });
    cleanups.push(() => client.close());
    for (let i = 0; i < 5; i++) {
      const adt = generateExampleAdt();
      const result = await client.send(adt);
      expect(result.ackCode).toBe('AA');
      expect(result.controlId).toBe(parseMsh(adt).controlId);
      expect(Hl7Message.parse(result.ack).getSegment('MSA')?.getField(2)?.toString()).toBe(result.controlId);
    }
    expect(client.stats.connects).toBe(1);
  });

  it('sends windows-1252 that Hl7Server decodes correctly', async () => {
    const seen: Hl7Message[] = [];
    const port = await startMedplumServer('windows-1252', (m) => seen.push(m));
    const client = new MllpDeviceClient({ host: '127.0.0.1', port, encoding: 'windows-1252' });
    cleanups.push(() => client.close());
    await client.send(message('W1', 'é€'));
    expect(seen[0].getSegment('PID')?.getField(5)?.toString()).toBe('Doe^Janeé€');
  });
});

describe('@medplum/hl7 Hl7Client -> our listener', () => {
  it('gets correct ACKs from startHl7Listener', async () => {
    const listener = await startHl7Listener({ port: 0 });
    cleanups.push(() => listener.close());
    const client = medplumClient(listener.port);
    for (let i = 0; i < 5; i++) {
      const adt = generateExampleAdt();
      const ack = await client.sendAndWait(Hl7Message.parse(adt));
      expect(ack.getSegment('MSA')?.getField(1)?.toString()).toBe('AA');
      expect(ack.getSegment('MSA')?.getField(2)?.toString()).toBe(parseMsh(adt).controlId);
      expect(ack.getSegment('MSH')?.getField(9)?.toString()).toBe('ACK^A01^ACK');
    }
    expect(listener.received).toBe(5);
  });

  it('gets correct ACKs in latin1 with accents', async () => {
    const seen: string[] = [];
    const listener = await startHl7Listener({ port: 0, encoding: 'latin1', onMessage: (m) => seen.push(m) });
    cleanups.push(() => listener.close());
    const client = medplumClient(listener.port, 'latin1');
    const ack = await client.sendAndWait(Hl7Message.parse(message('M1', 'ñü')));
    expect(ack.getSegment('MSA')?.getField(2)?.toString()).toBe('M1');
    expect(seen[0]).toContain('Doe^Janeñü');
  });

  const cli = join(__dirname, '../../dist/edgepush.js');
  // The global setup (test/support/build-dist.ts) builds it, so it is always there.
  it('gets correct ACKs from `edgepush hl7 listen` (child process)', async () => {
    const child = spawn(process.execPath, [cli, 'hl7', 'listen', '0', '--ack', 'AE', '--log-level', 'silent'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(
      () =>
        new Promise<void>((resolve) =>
          child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM')),
        ),
    );
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /:(\d+) /.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`listener exited ${code}`)));
    });
    const client = medplumClient(port);
    const adt = generateExampleAdt();
    const ack = await client.sendAndWait(Hl7Message.parse(adt));
    expect(ack.getSegment('MSA')?.getField(1)?.toString()).toBe('AE');
    expect(ack.getSegment('MSA')?.getField(2)?.toString()).toBe(parseMsh(adt).controlId);
  });
});
