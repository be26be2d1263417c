/**
 * The WebSocket route keys the relay's messages are routed on (`$request.body.action`): one
 * per RelayMessage action. The CDK stack declares exactly these routes.
 */
import type { RelayMessage } from './messages';

export const RELAY_ROUTE_KEYS: readonly RelayMessage['action'][] = ['hello', 'result', 'heartbeat'];
