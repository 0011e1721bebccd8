import { useState } from 'react';
import { currentLink } from '../app/urlSync';

/** Copies the link that reproduces the current config (the address bar holds it too). */
export function ShareLink() {
  const [copied, setCopied] = useState(false);
  return (
    <button
      className="share-link"
      data-testid="share-link"
      title="Copy a link that reproduces this config"
      onClick={() => {
        void navigator.clipboard?.writeText(currentLink()).then(
          () => {
            setCopied(true);
            setTimeout(() => setCopied(false), 1500);
          },
          () => setCopied(false),
        );
      }}
    >
      {copied ? 'link copied' : 'copy link'}
    </button>
  );
}
