// Position analysis of the Features tab (issue 6): reconstruction loss, L0 and temporal change by
// position in the sequence, for the latest evaluation against the first.
import { useMemo } from 'react';
import type { RunAnalysis } from '../../store/analysisStore';
import { LineChart } from '../charts/LineChart';
import { Panel } from './Panel';
import { toCsv } from './exportFiles';

export function PositionPanel({ analysis, runId }: { analysis: RunAnalysis; runId: string }) {
  const evals = analysis.evals;
  const last = evals[evals.length - 1];
  const first = evals[0];
  // act_smoothness (SPEC §11) is absent from evaluations stored before it existed: no line for those.
  const series = (
    key: 'recon_loss' | 'l0' | 'tv_ratio' | 'act_smoothness' | 'fft_hf_ratio',
    color: string,
  ) => {
    const pos = (a: number[] = []) => a.map((_, t) => t);
    const out = [
      {
        id: `${key}-last`,
        label: `step ${last.step}`,
        color,
        x: pos(last.byPosition[key]),
        y: last.byPosition[key] ?? [],
      },
    ];
    if (first !== last)
      out.unshift({
        id: `${key}-first`,
        label: `step ${first.step}`,
        color: '#8a93b2',
        x: pos(first.byPosition[key]),
        y: first.byPosition[key] ?? [],
      });
    return out;
  };
  const charts = useMemo(
    () => ({
      recon: series('recon_loss', '#7dd3fc'),
      l0: series('l0', '#fbbf24'),
      tv: series('tv_ratio', '#f0abfc'),
      smooth: series('act_smoothness', '#86efac'),
      fft: series('fft_hf_ratio', '#fb923c'),
    }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [evals],
  );
  const T = last.byPosition.l0.length;
  return (
    <Panel
      title="By position"
      testId="panel-position"
      exportName={`position-${runId}-step${last.step}`}
      note={`Reconstruction loss ‖x − x̂‖², L0, temporal change (tv ratio of the pair ending at t) and T-SAE's activation smoothness (mean |Δf|/‖Δx‖ over active features, SPEC §11) at each position; grey: first evaluation (step ${first.step}).`}
      data={{
        csv: () =>
          toCsv(
            [
              'position',
              'recon_loss',
              'l0',
              'tv_ratio',
              'jaccard',
              'flip_rate',
              'mean_run_length',
              'act_smoothness',
              'sequence_l0',
              'fft_hf_ratio',
            ],
            Array.from({ length: T }, (_, t) => [
              t,
              last.byPosition.recon_loss[t],
              last.byPosition.l0[t],
              last.byPosition.tv_ratio[t],
              last.byPosition.jaccard[t],
              last.byPosition.flip_rate[t],
              last.byPosition.mean_run_length[t],
              last.byPosition.act_smoothness?.[t] ?? NaN,
              last.byPosition.sequence_l0?.[t] ?? NaN,
              last.byPosition.fft_hf_ratio?.[t] ?? NaN,
            ]),
          ),
        json: () => ({ step: last.step, ...last.byPosition }),
      }}
    >
      <div className="an-grid3">
        <div>
          <h4>recon loss</h4>
          <LineChart
            series={charts.recon}
            height={140}
            xLabel="position"
            ariaLabel="Reconstruction loss by position"
            testId="pos-recon"
          />
        </div>
        <div>
          <h4>L0</h4>
          <LineChart
            series={charts.l0}
            height={140}
            xLabel="position"
            ariaLabel="L0 by position"
            testId="pos-l0"
          />
        </div>
        <div>
          <h4>temporal change (tv ratio)</h4>
          <LineChart
            series={charts.tv}
            height={140}
            xLabel="position"
            ariaLabel="Temporal change by position"
            testId="pos-tv"
          />
        </div>
        {charts.smooth.some((c) => c.y.some(Number.isFinite)) ? (
          <div>
            <h4>activation smoothness (T-SAE)</h4>
            <LineChart
              series={charts.smooth}
              height={140}
              xLabel="position"
              ariaLabel="Activation smoothness by position"
              testId="pos-smooth"
            />
          </div>
        ) : null}
        {charts.fft.some((c) => c.y.some(Number.isFinite)) ? (
          <div>
            <h4>FFT high/low ratio, 8-token windows (T-SAE)</h4>
            <LineChart
              series={charts.fft}
              height={140}
              xLabel="position (last token of the window)"
              ariaLabel="FFT high/low frequency ratio by position"
              testId="pos-fft"
            />
          </div>
        ) : null}
      </div>
    </Panel>
  );
}
