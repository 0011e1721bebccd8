import { useAppStore } from '../store/appStore';

/** Errors and warnings, in words, where the user is looking: a stack at the top of the page. */
export function Messages() {
  const messages = useAppStore((s) => s.messages);
  const dismiss = useAppStore((s) => s.dismissMessage);
  if (messages.length === 0) return null;
  return (
    <div className="messages" aria-live="assertive">
      {messages.map((m) => (
        <div
          key={m.id}
          className={`message message-${m.level}`}
          role={m.level === 'error' ? 'alert' : 'status'}
        >
          <strong>{m.title}</strong>
          <span>{m.detail}</span>
          <button aria-label="Dismiss" onClick={() => dismiss(m.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
