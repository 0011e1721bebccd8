// How a token's text is shown to a reader (issue 10), the same in the app, the HTML report and the
// dashboard JSON's display strings: spaces as ␣, newlines as ↵, tabs as ⇥, other control characters
// as \xNN, the empty string as ∅, so that a token made of whitespace is never an invisible cell.
// The text itself (src/data/tokenText.ts) is kept as is next to it; this is only its rendering.

/** Other C0 control characters and DEL, as \xNN. */
function escapeControls(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    out += c < 0x20 || c === 0x7f ? `\\x${c.toString(16).padStart(2, '0')}` : ch;
  }
  return out;
}

export function displayToken(text: string): string {
  if (text === '') return '∅';
  return escapeControls(
    text
      .replace(/\r\n|\r|\n/g, '↵')
      .replace(/\t/g, '⇥')
      .replace(/ /g, '␣'),
  );
}

/** The placeholder a view shows for an id whose text is unknown. */
export function idPlaceholder(id: number): string {
  return `[${id}]`;
}
