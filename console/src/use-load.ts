/** Loads data for a view; an answer that arrives after a newer request started is dropped. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Loaded<T> {
  data?: T;
  error?: unknown;
  loading: boolean;
  reload: () => void;
  /** Shows data the caller already has (an action's answer), dropping any load in flight. */
  replace: (data: T) => void;
}

export function useLoad<T>(load: (() => Promise<T>) | undefined, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: load !== undefined });
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    if (!load) {
      setState({ loading: false });
      return;
    }
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === generation.current && setState({ data, loading: false }),
      (error: unknown) => mine === generation.current && setState({ error, loading: false }),
    );
    // The caller names what the loader depends on (`deps`), as with useEffect.
  }, deps);
  useEffect(run, [run]);
  const replace = useCallback((data: T) => {
    generation.current++;
    setState({ data, loading: false });
  }, []);
  return { ...state, reload: run, replace };
}
