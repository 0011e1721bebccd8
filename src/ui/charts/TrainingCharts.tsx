import { useEffect, useMemo, useState } from 'react';
import { architectureOf } from '../../sae/architectures';
import { useRunsStore, type RunRecord } from '../../store/runsStore';
import { LineChart } from './LineChart';
import type { Series } from './chartModel';
import { runColor, TERM_COLORS } from './palette';

const UNIT: [number, number] = [0, 1];

function useViewportHeight(): number {
  const [h, setH] = useState(() => window.innerHeight);
  useEffect(() => {
    const on = () => setH(window.innerHeight);
    window.addEventListener('resize', on);
    return () => window.removeEventListener('resize', on);
  }, []);
  return h;
}

function ChartCard(props: {
  title: string;
  note?: string;
  logToggle?: boolean;
  log?: boolean;
  onLog?: (v: boolean) => void;
  children: React.ReactNode;
  testId: string;
}) {
  return (
    <figure className="chart-card" data-testid={props.testId}>
      <figcaption>
        <span className="chart-title">{props.title}</span>
        {props.note && <span className="muted chart-note">{props.note}</span>}
        {props.logToggle && (
          <button
            className={`toggle${props.log ? ' on' : ''}`}
            aria-pressed={!!props.log}
            onClick={() => props.onLog?.(!props.log)}
            title="Logarithmic y-axis"
          >
            log
          </button>
        )}
      </figcaption>
      {props.children}
    </figure>
  );
}

function Legend({ items }: { items: { label: string; color: string; dash?: boolean }[] }) {
  return (
    <div className="legend">
      {items.map((it) => (
        <span key={it.label}>
          <span className={`swatch${it.dash ? ' dashed' : ''}`} style={{ background: it.color }} />
          {it.label}
        </span>
      ))}
    </div>
  );
}

/** One series per drawn run of a metric computed from its history. */
function perRun(runs: RunRecord[], id: string, f: (r: RunRecord) => number[]): Series[] {
  return runs.map((r) => ({
    id: `${r.id}-${id}`,
    label: r.name,
    color: runColor(r.colorIndex),
    x: r.history.step,
    y: f(r),
  }));
}

const scale = (a: number[], k: number) => a.map((v) => v * k);

/** The live charts: loss terms, α with L_max and L_recon, L0, dead share, learning rate, gradient norm. */
export function TrainingCharts() {
  const runs = useRunsStore((s) => s.runs);
  const selectedId = useRunsStore((s) => s.selectedRunId);
  const [smoothing, setSmoothing] = useState(0.6);
  const viewportHeight = useViewportHeight();
  const [log, setLog] = useState<Record<string, boolean>>({ loss: true });
  const setLogFor = (k: string) => (v: boolean) => setLog((o) => ({ ...o, [k]: v }));

  const selected = runs.find((r) => r.id === selectedId) ?? null;
  const drawn = useMemo(() => runs.filter((r) => r.visible || r.id === selectedId), [runs, selectedId]);
  const multi = drawn.length > 1;

  const lossSeries = useMemo<Series[]>(() => {
    if (!selected) return [];
    const h = selected.history;
    const c = selected.config;
    const out: Series[] = [
      { id: 'total', label: 'total L', color: TERM_COLORS.total, x: h.step, y: h.loss, width: 2 },
      { id: 'recon', label: 'L_recon', color: TERM_COLORS.recon, x: h.step, y: h.l_recon },
    ];
    // The architecture's own loss terms (src/sae/architectures): λ1·L_sparse, AuxK, L_mat, c·L_nce.
    const terms = architectureOf(c).lossTerms(c);
    if (terms.some((t) => t.id === 'sparse'))
      out.push({
        id: 'sparse',
        label: 'λ1·L_sparse',
        color: TERM_COLORS.sparse,
        x: h.step,
        y: scale(h.l_sparse, c.l1_coefficient),
      });
    out.push({
      id: 'temp',
      label: 'λ2·α·L_temp',
      color: TERM_COLORS.temp,
      x: h.step,
      y: h.l_temp.map((v, i) => v * h.alpha[i] * c.temporal_coefficient),
    });
    if (terms.some((t) => t.id === 'aux'))
      out.push({ id: 'aux', label: 'AuxK', color: TERM_COLORS.aux, x: h.step, y: h.l_aux });
    // Matryoshka: L_mat (Σ_g c_g·L_g, in the loss in place of L_recon); T-SAE: c·L_nce.
    if (terms.some((t) => t.id === 'matryoshka'))
      out.push({ id: 'mat', label: 'L_mat', color: TERM_COLORS.mat, x: h.step, y: h.l_mat });
    if (terms.some((t) => t.id === 'contrastive'))
      out.push({
        id: 'nce',
        label: 'c·L_nce',
        color: TERM_COLORS.nce,
        x: h.step,
        y: scale(h.l_nce, c.contrastive_coefficient),
      });
    // Other drawn runs: their total loss, thin and dashed, in their run colour.
    for (const r of drawn)
      if (r.id !== selected.id)
        out.push({
          id: `${r.id}-total`,
          label: `${r.name} total`,
          color: runColor(r.colorIndex),
          x: r.history.step,
          y: r.history.loss,
          dash: '4 3',
          width: 1,
        });
    return out;
  }, [selected, drawn]);

  const alphaSeries = useMemo(
    () =>
      multi
        ? perRun(drawn, 'alpha', (r) => r.history.alpha)
        : selected
          ? [
              {
                id: 'alpha',
                label: 'α',
                color: TERM_COLORS.alpha,
                x: selected.history.step,
                y: selected.history.alpha,
              },
            ]
          : [],
    [drawn, selected, multi],
  );
  const lmaxSeries = useMemo<Series[]>(() => {
    if (!selected) return [];
    const h = selected.history;
    return [
      { id: 'lmax', label: 'L_max', color: TERM_COLORS.lmax, x: h.step, y: h.l_max },
      { id: 'lrecon', label: 'L_recon', color: TERM_COLORS.recon, x: h.step, y: h.l_recon },
    ];
  }, [selected]);
  const l0Series = useMemo(() => perRun(drawn, 'l0', (r) => r.history.l0), [drawn]);
  const deadSeries = useMemo(
    () => perRun(drawn, 'dead', (r) => scale(r.history.dead_count, 1 / r.config.d_sae)),
    [drawn],
  );
  const lrSeries = useMemo(() => perRun(drawn, 'lr', (r) => r.history.lr), [drawn]);
  const gradSeries = useMemo(() => perRun(drawn, 'grad', (r) => r.history.grad_norm), [drawn]);

  // One x-axis for every chart: from the first to the last recorded step of the drawn runs.
  const xDomain = useMemo<[number, number] | undefined>(() => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const r of drawn)
      if (r.history.step.length) {
        lo = Math.min(lo, r.history.step[0]);
        hi = Math.max(hi, r.history.step[r.history.step.length - 1]);
      }
    if (!Number.isFinite(lo)) return undefined;
    return hi > lo ? [lo, hi] : [lo - 1, hi + 1];
  }, [drawn]);

  // Three rows of charts fill the window below the controls (laptop screens included), within limits.
  const rowH = Math.max(140, Math.min(280, Math.floor((viewportHeight - 290) / 3)));

  const runLegend = drawn.map((r) => ({ label: r.name, color: runColor(r.colorIndex) }));
  const pct = (v: number) => `${(v * 100).toFixed(2)} %`;

  return (
    <section className="charts" aria-label="Training charts">
      <div className="charts-toolbar">
        <label>
          smoothing
          <input
            type="range"
            min={0}
            max={0.99}
            step={0.01}
            value={smoothing}
            onChange={(e) => setSmoothing(Number(e.target.value))}
            aria-valuetext={smoothing.toFixed(2)}
            data-testid="smoothing"
          />
          <output>{smoothing.toFixed(2)}</output>
        </label>
        {multi && <Legend items={runLegend} />}
      </div>
      <div className="chart-grid">
        <ChartCard
          title="Loss terms"
          note={selected ? selected.name : undefined}
          logToggle
          log={log.loss}
          onLog={setLogFor('loss')}
          testId="chart-loss"
        >
          <Legend
            items={lossSeries.filter((s) => !s.dash).map((s) => ({ label: s.label, color: s.color }))}
          />
          <LineChart
            xDomain={xDomain}
            series={lossSeries}
            height={rowH - 42}
            logY={log.loss}
            smoothing={smoothing}
            ariaLabel="Loss terms over training steps"
            testId="chart-loss-plot"
          />
        </ChartCard>
        <ChartCard
          title="α and L_max"
          note="α = σ(β·(L_max − L_recon)) ∈ [0.5, 1) with a true max"
          testId="chart-alpha"
        >
          <LineChart
            xDomain={xDomain}
            series={alphaSeries}
            height={48}
            yDomain={UNIT}
            smoothing={smoothing}
            ariaLabel="α over steps"
          />
          <Legend items={lmaxSeries.map((s) => ({ label: s.label, color: s.color }))} />
          <LineChart
            xDomain={xDomain}
            series={lmaxSeries}
            height={Math.max(60, rowH - 42 - 48 - 20)}
            logY={log.lmax}
            smoothing={smoothing}
            ariaLabel="L_max and L_recon over steps"
          />
        </ChartCard>
        <ChartCard
          title="L0"
          note="active features per token"
          logToggle
          log={log.l0}
          onLog={setLogFor('l0')}
          testId="chart-l0"
        >
          <LineChart
            xDomain={xDomain}
            series={l0Series}
            height={rowH - 22}
            logY={log.l0}
            smoothing={smoothing}
            ariaLabel="L0 over steps"
          />
        </ChartCard>
        <ChartCard title="Dead features" note="share of d_sae" testId="chart-dead">
          <LineChart
            xDomain={xDomain}
            series={deadSeries}
            height={rowH - 22}
            yDomain={UNIT}
            smoothing={0}
            format={pct}
            ariaLabel="Dead feature share over steps"
          />
        </ChartCard>
        <ChartCard title="Learning rate" testId="chart-lr">
          <LineChart
            xDomain={xDomain}
            series={lrSeries}
            height={rowH - 22}
            smoothing={0}
            ariaLabel="Learning rate over steps"
          />
        </ChartCard>
        <ChartCard
          title="Gradient norm"
          logToggle
          log={log.grad}
          onLog={setLogFor('grad')}
          testId="chart-grad"
        >
          <LineChart
            xDomain={xDomain}
            series={gradSeries}
            height={rowH - 22}
            logY={log.grad}
            smoothing={smoothing}
            ariaLabel="Gradient norm over steps"
          />
        </ChartCard>
      </div>
    </section>
  );
}
