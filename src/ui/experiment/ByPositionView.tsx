// The experiment's by-position metrics (issue 14: "all by position as well"): for the chosen metric,
// each method's mean over seeds at every position (solid) and the ± t interval's ends (dashed), from
// the report's by_position (src/analysis/experimentTable.ts experimentByPosition). Data in, SVG out.
import { useMemo, useState } from 'react';
import type { ExperimentByPosition } from '../../analysis/experimentTable';
import { LineChart } from '../charts/LineChart';
import type { Series } from '../charts/chartModel';
import { runColor } from '../charts/palette';

export function ByPositionView({ b, methods }: { b: ExperimentByPosition; methods: string[] }) {
  const [chosen, setChosen] = useState<string | null>(null);
  const metric =
    chosen && b.metrics.includes(chosen)
      ? chosen
      : (b.metrics.find((k) => k === 'fft_hf_ratio') ?? b.metrics[0]);
  const series = useMemo(() => {
    if (!metric) return [];
    const out: Series[] = [];
    methods.forEach((m, i) => {
      const c = b.cells[m]?.[metric];
      if (!c) return;
      const x = c.mean.map((_, t) => t);
      const color = runColor(i);
      out.push({ id: `${m}`, label: m, color, x, y: c.mean, width: 2 });
      out.push({
        id: `${m}-lo`,
        label: `${m} − interval`,
        color,
        x,
        y: c.mean.map((v, t) => v - c.half[t]),
        dash: '3 3',
        width: 1,
      });
      out.push({
        id: `${m}-hi`,
        label: `${m} + interval`,
        color,
        x,
        y: c.mean.map((v, t) => v + c.half[t]),
        dash: '3 3',
        width: 1,
      });
    });
    return out;
  }, [b, methods, metric]);
  if (!metric) return null;
  return (
    <div className="exp-bypos" data-testid="exp-bypos" data-metric={metric}>
      <label className="exp-field">
        By position:{' '}
        <select value={metric} onChange={(e) => setChosen(e.target.value)} data-testid="exp-bypos-metric">
          {b.metrics.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
        <span className="muted">
          mean over seeds (solid) ± t interval (dashed) at each position of the sequence
          {metric === 'fft_hf_ratio' ? '; the FFT ratio of the 8 tokens ending there' : ''}
        </span>
      </label>
      <LineChart
        series={series}
        height={200}
        xLabel="position"
        ariaLabel={`${metric} by position`}
        markPoints={false}
      />
    </div>
  );
}
