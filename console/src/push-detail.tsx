/** One push: every field the server gives, its body and ACK when the token may read them, cancel and resend. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError, type Api } from './api';
import { MessageText, OtherFields, Status, Time } from './fields';
import { waitReason } from './shapes';
import type { Push } from './types';
import { useLoad } from './use-load';

const SHOWN = [
  'pushId',
  'agentId',
  'destination',
  'status',
  'attempts',
  'createdAt',
  'expiresAt',
  'completedAt',
  'ackCode',
  'error',
  'resendOf',
  'contentType',
  'body',
  'response',
  'waitReason',
];

interface Props {
  api: Api;
  pushId: string;
  refresh: number;
  onOpen: (pushId: string) => void;
  onChanged: () => void;
  onClose: () => void;
}

export function PushDetail({ api, pushId, refresh, onOpen, onChanged, onClose }: Props) {
  const [note, setNote] = useState('');
  const [version, setVersion] = useState(0);
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const push = useLoad(() => api.get<Push>(`pushes/${encodeURIComponent(pushId)}`), [api, pushId, refresh, version]);
  const p = push.data;
  useEffect(() => heading.current?.focus(), []);

  async function act(action: 'cancel' | 'resend') {
    setBusy(true);
    setNote(action === 'cancel' ? 'Cancelling…' : 'Resending…');
    try {
      const result = await api.send<Push>('POST', `pushes/${encodeURIComponent(pushId)}/${action}`);
      if (action === 'cancel') {
        // The answer is the cancelled push: show it with the note, in one render, so the
        // buttons never offer a cancel the server has already done. The reload adds the body.
        push.replace({ ...push.data, ...result });
        setNote(`Push ${pushId} is ${result.status}.`);
      } else {
        setNote(`Resent as push ${result.pushId} (${result.status}).`);
      }
      setVersion((v) => v + 1);
      onChanged();
    } catch (err) {
      setNote(`${action === 'cancel' ? 'Cancel' : 'Resend'} failed: ${describeError(err)}`);
    } finally {
      setBusy(false);
    }
  }

  const reason = p ? waitReason(p) : undefined;
  return (
    <article class="detail" aria-labelledby="push-detail-title">
      <h3 id="push-detail-title" tabIndex={-1} ref={heading}>
        Push <span class="mono">{pushId}</span>
      </h3>
      {push.error ? <p class="error">{describeError(push.error)}</p> : null}
      {p ? (
        <>
          <dl class="fields">
            <div>
              <dt>Status</dt>
              <dd>
                <Status status={p.status} />
                {p.ackCode ? ` (${p.ackCode})` : ''}
              </dd>
            </div>
            {reason ? (
              <div>
                <dt>Why it waits</dt>
                <dd>{reason}</dd>
              </div>
            ) : null}
            {p.error ? (
              <div>
                <dt>Error</dt>
                <dd>{p.error}</dd>
              </div>
            ) : null}
            <div>
              <dt>Agent</dt>
              <dd>{p.agentId}</dd>
            </div>
            <div>
              <dt>Destination</dt>
              <dd>{p.destination}</dd>
            </div>
            <div>
              <dt>Attempts</dt>
              <dd>{p.attempts}</dd>
            </div>
            <div>
              <dt>Created</dt>
              <dd>
                <Time iso={p.createdAt} />
              </dd>
            </div>
            <div>
              <dt>Expires</dt>
              <dd>
                <Time iso={p.expiresAt} />
              </dd>
            </div>
            <div>
              <dt>Completed</dt>
              <dd>
                <Time iso={p.completedAt} />
              </dd>
            </div>
            {p.contentType ? (
              <div>
                <dt>Content type</dt>
                <dd>{p.contentType}</dd>
              </div>
            ) : null}
            {p.resendOf ? (
              <div>
                <dt>Resend of</dt>
                <dd>
                  <button type="button" class="link mono" onClick={() => p.resendOf && onOpen(p.resendOf)}>
                    {p.resendOf}
                  </button>
                </dd>
              </div>
            ) : null}
          </dl>
          <OtherFields item={p} known={SHOWN} />
          <h4>Message</h4>
          {typeof p.body === 'string' ? (
            <MessageText text={p.body} label="Message body" />
          ) : (
            <p class="muted">The server did not send the body (it is not shown to this token, or not returned by this server).</p>
          )}
          <h4>ACK</h4>
          {typeof p.response === 'string' ? (
            <MessageText text={p.response} label="The device's ACK" />
          ) : (
            <p class="muted">No ACK text{p.status === 'acked' || p.status === 'nacked' ? ' for this token' : ' (yet)'}.</p>
          )}
          <div class="actions">
            <button type="button" class="danger" disabled={busy || p.status !== 'queued'} onClick={() => void act('cancel')}>
              Cancel push
            </button>
            <button type="button" disabled={busy} onClick={() => void act('resend')}>
              Resend
            </button>
            <button type="button" onClick={onClose}>
              Close
            </button>
          </div>
        </>
      ) : null}
      <p role="status">{note}</p>
    </article>
  );
}
