/**
 * V8 settings for the relay process. A relay waits on sockets, not on the CPU, and runs on site
 * boxes for months: it favours a small heap over peak speed. Set at run time (not on the node
 * command line) so they apply however the relay is started: `npx edgepush relay`, the systemd
 * unit, or `edgepush relay` from a global install. Both are read by V8 each time it sizes the
 * heap, so setting them after start-up takes effect (BENCHMARKS.md, "Relay memory").
 */
import { setFlagsFromString } from 'node:v8';

export function applyRelayHeapFlags(): void {
  // Smaller heap growth steps and earlier full GCs.
  setFlagsFromString('--optimize-for-size');
  // The young generation keeps its initial 1 MB semi-spaces instead of growing to 16 MB under a
  // burst of pushes; the same as --max-semi-space-size=1, which only works on the command line.
  setFlagsFromString('--semi-space-growth-factor=1');
}
