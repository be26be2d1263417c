/**
 * `POST /fhir/R4/Agent/{id}/$push`, shaped like Medplum's operation so `MedplumClient.pushToAgent`
 * works unchanged: the ACK comes back as raw ER7 text; errors are FHIR OperationOutcome.
 */
import type { CoreConfig } from '../core/core-config';
import { HL7_V2_CONTENT_TYPE } from '../../protocol/content-types';
import { validateAgentId } from '../core/agent-service';
import type { Ports } from '../core/ports';
import { parseJsonBody } from '../core/push-request';
import { json, operationOutcome } from './responses';
import { NOT_WAITED_HEADER, location, submitPush, viewOf } from './push-api';
import type { HttpRequest, HttpResponse } from './http-types';

/**
 * A FHIR operation may also be invoked with a `Parameters` resource (Medplum's server accepts
 * both): `{resourceType: 'Parameters', parameter: [{name: 'body', valueString: '...'}, ...]}`.
 */
function fromParameters(body: Record<string, unknown>): Record<string, unknown> {
  if (body.resourceType !== 'Parameters') return body;
  const out: Record<string, unknown> = {};
  for (const p of Array.isArray(body.parameter) ? (body.parameter as unknown[]) : []) {
    if (typeof p !== 'object' || p === null || typeof (p as { name?: unknown }).name !== 'string') continue;
    const valueKey = Object.keys(p).find((k) => k.startsWith('value'));
    if (valueKey !== undefined) out[(p as { name: string }).name] = (p as Record<string, unknown>)[valueKey];
  }
  return out;
}

export async function medplumPush(ports: Ports, config: CoreConfig, req: HttpRequest, agentId: string): Promise<HttpResponse> {
  const body = fromParameters(parseJsonBody(req.body));
  const { push, waited, notWaited } = await submitPush(
    ports,
    config,
    validateAgentId(agentId),
    body,
    req.deadline,
    req.skipWaitWhenOffline,
  );
  if (!waited) {
    return json(202, await viewOf(ports, push), { location: location(req, push.pushId) });
  }
  // Once the push is stored, no answer here may be a 5xx (or 429): MedplumClient resends such a
  // POST (twice), and each resend would be a new push of the same message to the device. Like
  // Medplum's own $push (badRequest 'Timeout'), the outcomes that are not an ACK are 400.
  switch (push.status) {
    case 'acked':
    case 'nacked':
      // Medplum hands back whatever the device answered; the caller reads MSA-1.
      return { status: 200, headers: { 'content-type': HL7_V2_CONTENT_TYPE }, body: push.response ?? '' };
    case 'failed':
    case 'cancelled':
      return operationOutcome('PUSH_FAILED', push.error ?? `the push ${push.status}`, 'exception');
    case 'expired':
      return operationOutcome('PUSH_EXPIRED', push.error ?? 'the push expired', 'timeout');
    default: {
      // Still in flight: like the native route's 504, say where to follow it.
      const why = notWaited ? 'the agent has no relay connected, so no answer can come yet' : 'no answer within waitTimeout';
      const timeout = operationOutcome('TIMEOUT', `${why}; the push continues: GET /pushes/${push.pushId}`, 'timeout');
      timeout.headers.location = location(req, push.pushId);
      if (notWaited) timeout.headers[NOT_WAITED_HEADER] = notWaited;
      return timeout;
    }
  }
}
