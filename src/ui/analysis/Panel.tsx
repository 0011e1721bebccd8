// A titled panel around one analysis view, with its exports: the first <svg> inside as SVG or PNG,
// and the view's data as CSV and JSON.
import { useRef, useState, type ReactNode } from 'react';
import { downloadBlob, slug, svgString, svgToPng, toJson } from './exportFiles';

export interface PanelData {
  csv: () => string;
  json: () => unknown;
}

export interface PanelProps {
  title: string;
  /** Short explanation under the title. */
  note?: ReactNode;
  testId: string;
  /** File name stem of the exports. */
  exportName: string;
  data?: PanelData;
  /** Controls shown in the header (mode switches…). */
  tools?: ReactNode;
  children: ReactNode;
  className?: string;
}

export function Panel(p: PanelProps) {
  const body = useRef<HTMLDivElement>(null);
  const [err, setErr] = useState<string | null>(null);
  const svg = () => body.current?.querySelector('svg') ?? null;
  const run = (f: () => Promise<void> | void) => async () => {
    setErr(null);
    try {
      await f();
    } catch (e) {
      setErr(`Export failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const name = slug(p.exportName);
  const needSvg = () => {
    const s = svg();
    if (!s) throw new Error('this view has nothing drawn yet');
    return s;
  };
  return (
    <section className={`an-panel ${p.className ?? ''}`} data-testid={p.testId}>
      <header className="an-panel-head">
        <h3>{p.title}</h3>
        <div className="an-tools">{p.tools}</div>
        <div className="an-export" role="group" aria-label={`Export ${p.title}`}>
          <button
            type="button"
            data-testid={`${p.testId}-svg`}
            onClick={run(() =>
              downloadBlob(`${name}.svg`, new Blob([svgString(needSvg())], { type: 'image/svg+xml' })),
            )}
          >
            SVG
          </button>
          <button
            type="button"
            data-testid={`${p.testId}-png`}
            onClick={run(async () => downloadBlob(`${name}.png`, await svgToPng(needSvg())))}
          >
            PNG
          </button>
          {p.data ? (
            <>
              <button
                type="button"
                data-testid={`${p.testId}-csv`}
                onClick={run(() =>
                  downloadBlob(`${name}.csv`, new Blob([p.data!.csv()], { type: 'text/csv' })),
                )}
              >
                CSV
              </button>
              <button
                type="button"
                data-testid={`${p.testId}-json`}
                onClick={run(() =>
                  downloadBlob(
                    `${name}.json`,
                    new Blob([toJson(p.data!.json())], { type: 'application/json' }),
                  ),
                )}
              >
                JSON
              </button>
            </>
          ) : null}
        </div>
      </header>
      {p.note ? <p className="an-note">{p.note}</p> : null}
      {err ? <p className="an-error">{err}</p> : null}
      <div ref={body} className="an-body">
        {p.children}
      </div>
    </section>
  );
}
