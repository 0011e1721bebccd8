// Tokens as a reader of feature dashboards expects them (issue 10): each token a cell shaded by the
// feature's activation, spaces and newlines visible (␣ ↵), special tokens (BOS/EOS/pad) marked, ids
// without known text shown as [id], and a tooltip with the token's text, id, position and activation.
import { interpolateInferno } from 'd3';
import type { TokenCell } from '../../analysis/featureDashboard';
import { displayToken } from '../../analysis/tokenDisplay';
import './inspector.css';

export function shade(v: number, max: number): string {
  if (!(v > 0) || !(max > 0)) return 'transparent';
  return interpolateInferno(0.25 + 0.7 * Math.min(1, v / max));
}

export function tokenTitle(c: TokenCell, position: number): string {
  if (c.pad) return `padding · t ${position}`;
  const what = c.known ? JSON.stringify(c.text) : 'text unknown';
  const id = c.id >= 0 ? `id ${c.id}` : 'no id';
  return `${what} · ${id}${c.special ? ' (special)' : ''} · t ${position} · activation ${c.value.toPrecision(3)}`;
}

export function tokenClass(c: TokenCell, center: boolean): string {
  let k = 'an-tok';
  if (center) k += ' an-tok-center';
  if (c.special) k += ' an-tok-special';
  if (!c.known) k += ' an-tok-unknown';
  if (c.pad) k += ' an-tok-pad';
  return k;
}

export function TokenStrip({
  tokens,
  max,
  firstPosition = 0,
  center,
  testId,
}: {
  tokens: TokenCell[];
  max: number;
  /** Position of tokens[0] in its sequence (for the tooltips). */
  firstPosition?: number;
  center?: number;
  testId?: string;
}) {
  return (
    <span className="an-tokens" data-testid={testId}>
      {tokens.map((c, i) => (
        <span
          key={i}
          className={tokenClass(c, i === center)}
          style={{ background: shade(c.value, max), color: c.value / max > 0.6 ? '#111' : undefined }}
          title={tokenTitle(c, firstPosition + i)}
          data-id={c.id}
        >
          {c.pad ? '␀' : displayToken(c.text)}
        </span>
      ))}
    </span>
  );
}
