// Keeps the address bar in step with the draft config and data choice (replaceState: no history
// entry per keystroke), and reads a link's config at startup.
import { useWorkspaceStore } from '../store/workspaceStore';
import { useAppStore } from '../store/appStore';
import { configFromQuery, configToQuery } from './urlConfig';
import type { DataChoice } from '../store/workspaceStore';
import type { TrainConfig } from '../sae/config';

/** Apply the config in `search` to the draft; returns the data the link names, whether it had a config,
 *  and the fields it set itself. */
export function applyUrlConfig(search: string): {
  data: DataChoice | null;
  hasConfig: boolean;
  given: Partial<TrainConfig>;
} {
  const parsed = configFromQuery(search, useWorkspaceStore.getState().draft);
  if (parsed.hasConfig) useWorkspaceStore.getState().replaceDraft(parsed.config);
  if (parsed.problems.length) {
    useAppStore.getState().postMessage({
      level: 'warning',
      title: 'Some settings in the link were not used',
      detail: parsed.problems.join(' '),
    });
  }
  return { data: parsed.data, hasConfig: parsed.hasConfig, given: parsed.given };
}

/** Mirror the draft into the URL from now on; returns the unsubscribe function. */
export function syncUrlWithDraft(): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const write = () => {
    timer = null;
    const s = useWorkspaceStore.getState();
    const q = configToQuery(s.draft, s.data.choice);
    if (location.search.slice(1) !== q)
      history.replaceState(null, '', `${location.pathname}?${q}${location.hash}`);
  };
  write();
  return useWorkspaceStore.subscribe((s, prev) => {
    if (s.draft === prev.draft && s.data.choice === prev.data.choice) return;
    if (timer === null) timer = setTimeout(write, 150);
  });
}

/** The shareable link of the current draft. */
export function currentLink(): string {
  const s = useWorkspaceStore.getState();
  return `${location.origin}${location.pathname}?${configToQuery(s.draft, s.data.choice)}`;
}
