import { useAppStore } from '../store/appStore';

const MAX_SHOWN = 3;

/** Errors and warnings, in words, where the user is looking: a stack at the top of the page. */
export function Messages() {
  const messages = useAppStore((s) => s.messages);
  const dismiss = useAppStore((s) => s.dismissMessage);
  if (messages.length === 0) return null;
  // The newest few are shown; older ones are summarized so the controls stay in view.
  const shown = messages.slice(-MAX_SHOWN);
  const hidden = messages.length - shown.length;
  return (
    <div className="messages" aria-live="assertive">
      {hidden > 0 && (
        <div className="message message-info">
          <span>{hidden} earlier messages hidden.</span>
          <button onClick={() => messages.slice(0, hidden).forEach((m) => dismiss(m.id))}>
            dismiss them
          </button>
        </div>
      )}
      {shown.map((m) => (
        <div
          key={m.id}
          className={`message message-${m.level}`}
          role={m.level === 'error' ? 'alert' : 'status'}
        >
          <strong>
            {m.title}
            {m.count > 1 ? <span className="muted"> ×{m.count}</span> : null}
          </strong>
          <span>{m.detail}</span>
          <button aria-label="Dismiss" onClick={() => dismiss(m.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
