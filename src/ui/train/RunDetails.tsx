import { totalSteps, tokensPerStep } from '../../sae/config';
import { architectureOf } from '../../sae/architectures';
import { useRunsStore, type MetricKey } from '../../store/runsStore';
import { formatCount } from '../format';

const ROWS: { key: MetricKey; label: string; title: string }[] = [
  { key: 'loss', label: 'L', title: 'total loss' },
  { key: 'l_recon', label: 'L_recon', title: 'reconstruction loss' },
  { key: 'l_sparse', label: 'L_sparse', title: 'sparsity term before λ1' },
  { key: 'l_temp', label: 'L_temp', title: 'temporal term before λ2·α' },
  { key: 'alpha', label: 'α', title: 'adaptive coefficient of the temporal term' },
  { key: 'l_max', label: 'L_max', title: 'moving maximum of L_recon' },
  { key: 'l0', label: 'L0', title: 'active features per token' },
  { key: 'dead_count', label: 'dead', title: 'features silent for the dead window' },
  { key: 'grad_norm', label: '‖∇‖', title: 'gradient norm before the optimizer step' },
  { key: 'lr', label: 'lr', title: 'learning rate of the step' },
];

function fmt(v: number | undefined): string {
  if (v === undefined) return '—';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3);
  return v.toPrecision(4);
}

/** The selected run's latest read-back numbers and its shape, for exact values beside the charts. */
export function RunDetails() {
  const run = useRunsStore((s) => s.runs.find((r) => r.id === s.selectedRunId));
  if (!run) return null;
  const h = run.history;
  const last = h.step.length - 1;
  const c = run.config;
  return (
    <section className="panel run-details" aria-label="Selected run" data-testid="run-details">
      <h2>Latest · step {last >= 0 ? formatCount(h.step[last]) : '—'}</h2>
      <table>
        <tbody>
          {ROWS.map((r) => (
            <tr key={r.key} title={r.title}>
              <th>{r.label}</th>
              <td>
                {r.key === 'dead_count' && last >= 0
                  ? formatCount(h.dead_count[last])
                  : fmt(last >= 0 ? h[r.key][last] : undefined)}
                {r.key === 'dead_count' && last >= 0 ? (
                  <span className="muted"> / {formatCount(c.d_sae)}</span>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <dl className="summary">
        <dt>data</dt>
        <dd title={run.dataLabel}>{run.dataLabel}</dd>
        <dt>shape</dt>
        <dd>
          {c.d_in} → {formatCount(c.d_sae)} · {architectureOf(c).label(c)}
        </dd>
        <dt>batch</dt>
        <dd>
          {c.seqs_per_batch} × {c.context_size} = {formatCount(tokensPerStep(c))} tok
        </dd>
        <dt>budget</dt>
        <dd>
          {formatCount(c.training_tokens)} tok · {formatCount(totalSteps(c))} steps
        </dd>
      </dl>
    </section>
  );
}
