import type { Clock } from '../../lambdas/core/ports';

/** The wall clock, as the core's Clock port. */
export const systemClock: Clock = { now: () => Date.now() };
