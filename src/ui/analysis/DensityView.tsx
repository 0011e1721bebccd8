// Feature-density histogram (SPEC §6): log10(density + 1e-10) of every feature; dead features sit in
// the leftmost bin at −10, the dense threshold (density 0.1) is a dashed line; both counts are written.
import type { DensityHistogram } from '../../analysis/histogram';
import { BinBars } from './BinBars';

export function DensityView({
  hist,
  width,
  height = 200,
}: {
  hist: DensityHistogram;
  width: number;
  height?: number;
}) {
  const total = hist.counts.reduce((s, v) => s + v, 0);
  return (
    <BinBars
      edges={hist.edges}
      values={hist.counts}
      width={width}
      height={height}
      marginTop={18}
      xTicks={10}
      yTicks={4}
      barClass="an-bar"
      color={(i) =>
        i === 0 && hist.dead > 0 ? '#f87171' : hist.edges[i] >= hist.denseAt ? '#fbbf24' : '#7dd3fc'
      }
      title={(i) =>
        `${hist.edges[i].toFixed(1)} … ${hist.edges[i + 1].toFixed(1)}: ${hist.counts[i]} features`
      }
      xLabel="log10(firing density + 1e-10)"
      ariaLabel="Histogram of log10 feature density"
      testId="density-svg"
      overlay={({ x, ih }) => (
        <>
          <line
            x1={x(hist.denseAt)}
            x2={x(hist.denseAt)}
            y1={0}
            y2={ih}
            stroke="#fbbf24"
            strokeDasharray="4 3"
          />
          <text x={x(hist.denseAt) - 4} y={-5} fontSize={10} fill="#fbbf24" textAnchor="end">
            dense (&gt; 0.1): {hist.dense}
          </text>
          <text x={2} y={-5} fontSize={10} fill="#f87171">
            dead: {hist.dead} of {total}
          </text>
        </>
      )}
    />
  );
}
