// Feature inspector (issue 6): the feature's activation over one held-out sequence with the tokens as
// text shaded by activation, its top-activating contexts, a histogram of its activations, the decoder
// rows nearest to it, its density and, on synthetic data, the true feature it matches.
import { interpolateInferno, scaleLinear } from 'd3';
import { inspectFeature } from '../../app/evaluationInspect';
import { useAnalysisStore, type InspectorData } from '../../store/analysisStore';
import { Panel } from './Panel';
import { toCsv } from './exportFiles';

const AXIS = '#8a93b2';

function shade(v: number, max: number): string {
  if (!(v > 0) || !(max > 0)) return 'transparent';
  return interpolateInferno(0.25 + 0.7 * Math.min(1, v / max));
}

function Tokens({
  tokens,
  values,
  max,
  center,
}: {
  tokens: string[];
  values: number[];
  max: number;
  center?: number;
}) {
  return (
    <span className="an-tokens">
      {tokens.map((t, i) => (
        <span
          key={i}
          className={`an-tok${i === center ? ' an-tok-center' : ''}`}
          style={{ background: shade(values[i], max), color: values[i] / max > 0.6 ? '#111' : undefined }}
          title={`${t}: ${values[i].toPrecision(3)}`}
        >
          {t}
        </span>
      ))}
    </span>
  );
}

/** Activation over the sequence as bars, positions along x (the chart exported as SVG/PNG). */
function TraceChart({ d, width }: { d: InspectorData; width: number }) {
  const h = 110,
    m = { top: 8, right: 8, bottom: 26, left: 40 };
  const iw = Math.max(40, width - m.left - m.right),
    ih = h - m.top - m.bottom;
  const T = d.trace.values.length;
  const x = scaleLinear().domain([0, T]).range([0, iw]);
  const y = scaleLinear()
    .domain([0, Math.max(1e-9, d.maxActivation)])
    .nice()
    .range([ih, 0]);
  return (
    <svg
      width={width}
      height={h}
      role="img"
      aria-label="Activation across the sequence"
      data-testid="inspector-trace-svg"
    >
      <g transform={`translate(${m.left},${m.top})`}>
        {d.trace.values.map((v, t) =>
          v > 0 ? (
            <rect
              key={t}
              x={x(t)}
              y={y(v)}
              width={Math.max(1, x(1) - x(0) - 0.5)}
              height={ih - y(v)}
              fill="#f0abfc"
            />
          ) : null,
        )}
        <line y1={ih} y2={ih} x2={iw} stroke={AXIS} />
        {x.ticks(8).map((t) => (
          <text key={t} x={x(t)} y={ih + 14} fontSize={10} fill={AXIS} textAnchor="middle">
            {t}
          </text>
        ))}
        <text x={iw / 2} y={ih + 24} fontSize={10} fill={AXIS} textAnchor="middle">
          position in held-out sequence {d.trace.sequence}
        </text>
        {y.ticks(3).map((t) => (
          <text key={t} x={-6} y={y(t)} fontSize={10} fill={AXIS} textAnchor="end" dominantBaseline="middle">
            {t}
          </text>
        ))}
      </g>
    </svg>
  );
}

function HistogramChart({ d, width }: { d: InspectorData; width: number }) {
  const h = 110,
    m = { top: 8, right: 8, bottom: 26, left: 40 };
  const iw = Math.max(40, width - m.left - m.right),
    ih = h - m.top - m.bottom;
  const { edges, counts } = d.histogram;
  const x = scaleLinear()
    .domain([edges[0], edges[edges.length - 1] || 1])
    .range([0, iw]);
  const y = scaleLinear()
    .domain([0, Math.max(1, ...counts)])
    .nice()
    .range([ih, 0]);
  return (
    <svg
      width={width}
      height={h}
      role="img"
      aria-label="Histogram of non-zero activations"
      data-testid="inspector-hist-svg"
    >
      <g transform={`translate(${m.left},${m.top})`}>
        {counts.map((c, i) => (
          <rect
            key={i}
            x={x(edges[i])}
            y={y(c)}
            width={Math.max(0.5, x(edges[i + 1]) - x(edges[i]) - 1)}
            height={ih - y(c)}
            fill="#7dd3fc"
          />
        ))}
        <line y1={ih} y2={ih} x2={iw} stroke={AXIS} />
        {x.ticks(5).map((t) => (
          <text key={t} x={x(t)} y={ih + 14} fontSize={10} fill={AXIS} textAnchor="middle">
            {t}
          </text>
        ))}
        <text x={iw / 2} y={ih + 24} fontSize={10} fill={AXIS} textAnchor="middle">
          activation (non-zero only)
        </text>
        {y.ticks(3).map((t) => (
          <text key={t} x={-6} y={y(t)} fontSize={10} fill={AXIS} textAnchor="end" dominantBaseline="middle">
            {t}
          </text>
        ))}
      </g>
    </svg>
  );
}

export function InspectorView({ width }: { width: number }) {
  const ins = useAnalysisStore((s) => s.inspector);
  const close = useAnalysisStore((s) => s.closeInspector);
  if (ins.feature === null || ins.runId === null) {
    return (
      <section className="an-panel an-inspector" data-testid="inspector">
        <p className="muted">Click a leaf of the dendrogram (or a row of a heatmap) to inspect a feature.</p>
      </section>
    );
  }
  const d = ins.data;
  const runId = ins.runId;
  const feature = ins.feature;
  const go = (f: number) => void inspectFeature(runId, f);
  return (
    <Panel
      title={`Feature ${feature}`}
      testId="inspector"
      className="an-inspector"
      exportName={`feature-${feature}-${runId}`}
      tools={
        <>
          <label className="an-inline">
            sequence{' '}
            <input
              type="number"
              min={0}
              max={d ? d.sequences - 1 : 0}
              value={d?.trace.sequence ?? 0}
              data-testid="inspector-sequence"
              onChange={(e) => void inspectFeature(runId, feature, Number(e.target.value))}
              style={{ width: 56 }}
            />
          </label>
          <button type="button" onClick={close} aria-label="Close the inspector">
            ×
          </button>
        </>
      }
      data={
        d
          ? {
              csv: () =>
                toCsv(
                  ['position', 'token', 'activation'],
                  d.trace.values.map((v, t) => [t, d.trace.tokens[t], v]),
                ),
              json: () => d,
            }
          : undefined
      }
    >
      {ins.loading && !d ? <p className="muted">Running the held-out sequences through the SAE…</p> : null}
      {ins.error ? <p className="an-error">{ins.error}</p> : null}
      {d ? (
        <div className="an-inspector-body" data-testid="inspector-body" data-feature={d.feature}>
          <dl className="an-facts">
            <dt>density</dt>
            <dd data-testid="inspector-density">{d.density.toPrecision(3)}</dd>
            <dt>mean when on</dt>
            <dd>{d.meanActive.toPrecision(3)}</dd>
            <dt>max</dt>
            <dd>{d.maxActivation.toPrecision(3)}</dd>
            <dt>step</dt>
            <dd>{d.step}</dd>
            {d.trueFeature ? (
              <>
                <dt>true feature</dt>
                <dd data-testid="inspector-true">
                  f{d.trueFeature.index} (cos {d.trueFeature.cos.toFixed(3)}
                  {d.trueFeature.cos > 0.9 ? ', recovered' : ''})
                </dd>
              </>
            ) : null}
          </dl>
          <TraceChart d={d} width={width - 24} />
          <div className="an-trace-text" data-testid="inspector-tokens">
            <Tokens tokens={d.trace.tokens} values={d.trace.values} max={d.maxActivation} />
          </div>
          <h4>Top-activating contexts</h4>
          {d.topContexts.length === 0 ? (
            <p className="muted">The feature never fires on the held-out set.</p>
          ) : null}
          <ol className="an-contexts" data-testid="inspector-contexts">
            {d.topContexts.map((c, i) => (
              <li key={i}>
                <button
                  type="button"
                  className="an-link"
                  onClick={() => void inspectFeature(runId, feature, c.sequence)}
                >
                  {c.value.toPrecision(3)} · seq {c.sequence} t {c.position}
                </button>{' '}
                <Tokens tokens={c.tokens} values={c.values} max={d.maxActivation} center={c.center} />
              </li>
            ))}
          </ol>
          <div className="an-row">
            <div>
              <h4>Activation histogram</h4>
              <HistogramChart d={d} width={Math.max(200, (width - 40) / 2)} />
            </div>
            <div>
              <h4>Nearest features (decoder cosine)</h4>
              <ul className="an-nearest" data-testid="inspector-nearest">
                {d.nearest.map((n) => (
                  <li key={n.feature}>
                    <button type="button" className="an-link" onClick={() => go(n.feature)}>
                      f{n.feature}
                    </button>{' '}
                    {n.cos.toFixed(3)}
                  </li>
                ))}
              </ul>
            </div>
          </div>
        </div>
      ) : null}
    </Panel>
  );
}
