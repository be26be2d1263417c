/**
 * How relay → cloud messages are routed. API Gateway's WebSocket API selects a route from each
 * message's `action`; the CDK construct, the hub's gateway and the relay use these names.
 */

export const HELLO_ACTION = 'hello';
export const RESULT_ACTION = 'result';
export const HEARTBEAT_ACTION = 'heartbeat';
/** (v2) A message a device sent to a relay channel. */
export const INBOUND_ACTION = 'inbound';
/** (v2) One part of a relay message over 128 KB. */
export const CHUNK_ACTION = 'chunk';

/** Every `action` a relay sends. */
export const RELAY_ACTIONS = [HELLO_ACTION, RESULT_ACTION, HEARTBEAT_ACTION, INBOUND_ACTION, CHUNK_ACTION] as const;
export type RelayAction = (typeof RELAY_ACTIONS)[number];

/** API Gateway's route selection expression for the WebSocket API. */
export const ROUTE_SELECTION_EXPRESSION = '$request.body.action';
/** Messages whose action is no route land here; the validator answers them with an error. */
export const DEFAULT_ROUTE_KEY = '$default';
export const CONNECT_ROUTE_KEY = '$connect';
export const DISCONNECT_ROUTE_KEY = '$disconnect';

/** The message route keys of the WebSocket API: one per action, and $default. */
export const RELAY_ROUTE_KEYS: readonly string[] = [...RELAY_ACTIONS, DEFAULT_ROUTE_KEY];
