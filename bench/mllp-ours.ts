/**
 * "ours" in bench/mllp.bench.ts: the relay's device client, made the way the relay makes it
 * (DeviceRegistry, the relay's default device settings and logger). The bench bundles this file
 * with esbuild as scripts/build.mjs bundles dist/, so it measures our code in its shipped form.
 */
import pino from 'pino';
import type { MllpDeviceClient } from '../edge-agent/mllp/device-client';
import { DeviceRegistry } from '../edge-agent/relay/devices';
import { applyRelayHeapFlags } from '../edge-agent/relay/heap-flags';
import { createRelayLogger } from '../edge-agent/relay/logger';

export function relayDeviceClient(port: number): MllpDeviceClient {
  // The relay process's own V8 settings, so this measures the client as `edgepush relay` runs it.
  applyRelayHeapFlags();
  const registry = new DeviceRegistry(
    [{ name: 'bench-device', protocol: 'mllp', host: '127.0.0.1', port, encoding: 'utf-8' }],
    // The relay's defaults (DEFAULTS.device in edge-agent/relay/config.ts).
    { connectTimeoutMs: 5_000, ackTimeoutMs: 30_000, idleTimeoutMs: 5 * 60_000, maxFrameBytes: 1024 * 1024 },
    // The relay's logger at its default level, on stderr: stdout carries the runner's result.
    createRelayLogger('info', pino.destination(2)),
  );
  return registry.client('bench-device')!;
}
