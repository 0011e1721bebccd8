// Matryoshka / T-SAE: the held-out metrics of each nested prefix of the dictionary (SPEC §11; computed by
// src/analysis/literature.ts from the run's latest evaluation): the explained variance of the prefix
// [0, end) alone, and T-SAE's activation smoothness and FFT high/low energy ratio of the group's own
// features [start, end). Shown only for runs whose architecture has prefixes.
import type { LiteratureGroup } from '../../analysis/literature';
import { toCsv } from './exportFiles';
import { Panel } from './Panel';

const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : '—');

export function PrefixPanel({
  runId,
  step,
  prefixes,
}: {
  runId: string;
  step: number;
  prefixes: LiteratureGroup[];
}) {
  return (
    <Panel
      title="Per Matryoshka prefix"
      testId="panel-prefixes"
      exportName={`prefixes-${runId}-step${step}`}
      note="Explained variance of each nested prefix's reconstruction (features 0 … end − 1 alone), and the activation smoothness and HF/LF energy of that group's own features, on the held-out set."
      data={{
        csv: () =>
          toCsv(
            ['start', 'end', 'explained_variance', 'act_smoothness', 'fft_hf_ratio'],
            prefixes.map((g) => [g.start, g.end, g.explained_variance, g.act_smoothness, g.fft_hf_ratio]),
          ),
        json: () => ({ step, prefixes }),
      }}
    >
      <table className="an-table" data-testid="prefix-table">
        <thead>
          <tr>
            <th>prefix</th>
            <th>group features</th>
            <th>explained variance</th>
            <th>act. smoothness</th>
            <th>HF/LF energy</th>
          </tr>
        </thead>
        <tbody>
          {prefixes.map((g) => (
            <tr key={g.end}>
              <td>0 … {g.end - 1}</td>
              <td>
                {g.start} … {g.end - 1}
              </td>
              <td>{fmt(g.explained_variance)}</td>
              <td>{fmt(g.act_smoothness)}</td>
              <td>{fmt(g.fft_hf_ratio)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}
