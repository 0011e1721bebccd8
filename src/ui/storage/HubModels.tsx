// The models fetched from the Hugging Face hub and kept in this browser (OPFS temposae-models/, one
// folder per id and revision: src/app/hubFetch.ts): each with its revision, the commit it resolved to,
// its size, and a button that deletes it (the next fetch downloads it again).
import { useEffect, useState } from 'react';
import { forgetHubEntry, hubCacheEntries, onHubCacheChange, type HubCacheEntry } from '../../app/hubFetch';
import { formatBytes } from '../../app/persistence/persistence';

export function HubModels({ onError }: { onError: (what: string, e: unknown) => void }) {
  const [entries, setEntries] = useState<HubCacheEntry[]>([]);
  useEffect(() => {
    let live = true;
    const load = () =>
      void hubCacheEntries().then(
        (e) => live && setEntries(e),
        () => live && setEntries([]),
      );
    load();
    const off = onHubCacheChange(load);
    return () => {
      live = false;
      off();
    };
  }, []);
  if (!entries.length) return null;
  const total = entries.reduce((a, e) => a + e.bytes, 0);
  return (
    <div className="checkpoints" data-testid="hub-models">
      <h3>Models from the hub · {formatBytes(total)}</h3>
      <ul>
        {entries.map((e) => (
          <li key={e.key} data-testid="hub-model-row" data-key={e.key} data-bytes={e.bytes}>
            {e.id}
            {e.revision !== null ? ` @ ${e.revision}` : ' (revision not recorded)'}
            {e.commit ? ` · commit ${e.commit.slice(0, 10)}` : ''} · {e.files} files · {formatBytes(e.bytes)}
            <button
              aria-label={`Delete the cached model ${e.key}`}
              title="Delete this cached model (fetching it again downloads it)"
              onClick={() => void forgetHubEntry(e).catch((err) => onError('Delete', err))}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
