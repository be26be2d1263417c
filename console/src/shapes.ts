/**
 * Reading fields whose shape a newer server decides (queue depths, why a push waits): plain
 * functions, no DOM, so the unit tests check them without a browser.
 */
import type { Json } from './types';

/** A value of unknown shape, as text a person can read. */
export function show(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value, null, 2);
}

export interface QueueDepth {
  destination: string;
  depth: number;
}

const DEPTH_KEYS = ['depth', 'queued', 'queueDepth', 'count'];
/** Agent fields that may hold queue depths; the detail view shows them once, not again as "other". */
export const DEPTH_FIELDS: readonly string[] = ['queueDepths', 'queues', 'queueDepth', 'queued'];

/**
 * Queue depth per destination, in whichever shape the server gives it: a map
 * `{lab: 3}`, a list `[{destination, depth}]`, or a count on each device. undefined when the
 * server gives none (an older server), which the view shows as "–", not as 0.
 */
export function queueDepths(agent: Json): QueueDepth[] | undefined {
  for (const key of DEPTH_FIELDS) {
    const value = agent[key];
    if (Array.isArray(value)) return value.map(depthOf).filter((d): d is QueueDepth => d !== undefined);
    if (value && typeof value === 'object') {
      return Object.entries(value as Json)
        .filter(([, n]) => typeof n === 'number')
        .map(([destination, n]) => ({ destination, depth: n as number }));
    }
  }
  if (Array.isArray(agent.devices)) {
    const perDevice = (agent.devices as Json[]).map((d) => depthOf({ destination: d.name, ...d })).filter((d) => d !== undefined);
    if (perDevice.length > 0) return perDevice;
  }
  return undefined;
}

function depthOf(item: unknown): QueueDepth | undefined {
  if (!item || typeof item !== 'object') return undefined;
  const o = item as Json;
  const destination = typeof o.destination === 'string' ? o.destination : typeof o.name === 'string' ? o.name : undefined;
  const key = DEPTH_KEYS.find((k) => typeof o[k] === 'number');
  return destination !== undefined && key ? { destination, depth: o[key] as number } : undefined;
}

/** Why a queued push waits (`waitReason`, a string or `{message|reason|code}`), when the server says. */
export function waitReason(push: Json): string | undefined {
  const value = push.waitReason ?? push.waiting;
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const o = value as Json;
    for (const key of ['message', 'reason', 'detail', 'code']) {
      const text = o[key];
      if (typeof text === 'string') return text;
    }
    return show(value);
  }
  return undefined;
}
