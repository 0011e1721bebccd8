// "Say what the method is doing" (issue 14): read a run's logged step metrics and say, in words with the
// numbers that support them, when the adaptive temporal method is not doing what its name promises —
// and what to try. Pure: columns in (one entry per readback, as the runs store keeps them), notes out.
//
// Rules (each computed over the readbacks after the first 10 % of the run, where α and the loss terms
// have left their first-step values; a rule needs at least 5 such readbacks):
//   alpha-saturated  λ2 > 0 and α > 0.99 on ≥ 80 % of them. α = σ(β·gap) with gap = L_max − L_recon
//                    ('absolute') saturates once β·gap > 4.6: the factor is a constant 1 and the method
//                    is a plain temporal penalty λ2·L_temp. Suggests 'relative' mode (gap / L_max), or a
//                    β that puts the median β·gap at 2 (α ≈ 0.88, still moving): β' = 2 / median(gap).
//   alpha-floor      λ2 > 0 and α < 0.51 on ≥ 80 %: gap ≈ 0 (L_recon at its moving maximum), α ≈ ½
//                    (with 'max', α ∈ [½, 1)): also a constant factor. Suggests a larger β.
//   alpha-range      λ2 > 0, neither of the above: the 5th–95th percentile range of α (information).
//   temporal-negligible  λ2 > 0 and the median share λ2·α·L_temp / loss < 1 %: the penalty barely
//                    shapes the gradient; suggests 10·λ2 (the share it would have at the same L_temp).
//   temporal-dominant   median share > 50 %: the penalty outweighs reconstruction; suggests λ2 / 10.
//   temporal-off     λ2 = 0: a control run (information).
//   dead-features    last readback: dead_count > 50 % of d_sae. Suggests AuxK (TopK), a lower λ1
//                    (ReLU/JumpReLU) or a lower learning rate.
//   not-learning     median L_recon of the last 10 % ≥ 0.95 × that of the first 10 % (after the first
//                    readback): reconstruction did not improve; suggests a higher learning rate.
//   threshold-unsettled  BatchTopK-family (activation 'batchtopk'): the inference threshold θ starts at 0
//                    and moves a fraction r = topk_threshold_lr of the way to the step's smallest active
//                    value each step (SAELens update_topk_threshold), so after S steps (1 − r)^S of its
//                    initial distance is left. Above 5 % θ sits below its target and inference (every
//                    evaluation, the export) keeps more than k features per token: held-out L0 > k.
//                    Suggests ⌈ln 20 / −ln(1 − r)⌉ steps (300 at r 0.01) or a larger r.
import { architectureOf, isArchitecture } from '../sae/architectures';

export interface NoteColumns {
  step: number[];
  loss: number[];
  l_recon: number[];
  l_temp: number[];
  alpha: number[];
  l_max: number[];
  dead_count: number[];
}

export interface NoteConfig {
  temporal_coefficient: number;
  alpha_beta: number;
  alpha_mode: 'absolute' | 'relative';
  d_sae: number;
  architecture: string;
  /** BatchTopK family: mean active per token and θ's update rate (absent for other architectures). */
  k?: number;
  topk_threshold_lr?: number;
}

export interface MethodNote {
  id:
    | 'alpha-saturated'
    | 'alpha-floor'
    | 'alpha-range'
    | 'temporal-negligible'
    | 'temporal-dominant'
    | 'temporal-off'
    | 'dead-features'
    | 'not-learning'
    | 'threshold-unsettled';
  level: 'info' | 'warn';
  /** What the logged numbers show. */
  text: string;
  /** What to try (empty for information). */
  suggestion: string;
  /** The numbers the sentence was made from. */
  values: Record<string, number>;
}

const MIN_ROWS = 5;

function quantile(v: number[], q: number): number {
  const s = v.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos),
    hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

const pct = (x: number) =>
  `${x > 0 && x < 0.001 ? (100 * x).toPrecision(2) : (100 * x).toFixed(x < 0.1 ? 1 : 0)} %`;
const num = (x: number) =>
  Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : x.toPrecision(3);

export function methodNotes(h: NoteColumns, cfg: NoteConfig): MethodNote[] {
  const n = h.step.length;
  const notes: MethodNote[] = [];
  if (n < MIN_ROWS) return notes;
  const from = Math.floor(n * 0.1);
  const idx = Array.from({ length: n - from }, (_, i) => from + i);
  const lam2 = cfg.temporal_coefficient;
  if (lam2 > 0 && idx.length >= MIN_ROWS) {
    const alpha = idx.map((i) => h.alpha[i]);
    const hiShare = alpha.filter((a) => a > 0.99).length / alpha.length;
    const loShare = alpha.filter((a) => a < 0.51).length / alpha.length;
    const gaps = idx.map((i) => h.l_max[i] - h.l_recon[i]);
    const medGap = quantile(gaps, 0.5);
    if (hiShare >= 0.8) {
      const betaNew = medGap > 0 ? 2 / medGap : NaN;
      notes.push({
        id: 'alpha-saturated',
        level: 'warn',
        text:
          `α was above 0.99 on ${pct(hiShare)} of the logged steps (median L_max − L_recon = ${num(medGap)}, ` +
          `β·gap = ${num(cfg.alpha_beta * medGap)} ≫ 4.6), so the adaptive factor was a constant 1: ` +
          `this run trained a plain temporal penalty λ2·L_temp.`,
        suggestion:
          cfg.alpha_mode === 'absolute'
            ? `Try alpha_mode 'relative' (gap / L_max), or β ≈ ${num(betaNew)} so that α stays near 0.88 and can move.`
            : `Try β ≈ ${num(betaNew)} so that α stays near 0.88 and can move.`,
        values: { share_above_0_99: hiShare, median_gap: medGap, suggested_beta: betaNew },
      });
    } else if (loShare >= 0.8) {
      notes.push({
        id: 'alpha-floor',
        level: 'warn',
        text:
          `α was below 0.51 on ${pct(loShare)} of the logged steps (median L_max − L_recon = ${num(medGap)}): ` +
          `L_recon sat at its moving maximum, so α ≈ ½ throughout and the adaptive factor did nothing.`,
        suggestion: `Try a larger β (${num(cfg.alpha_beta * 10)}), or L_max mode 'ema'.`,
        values: { share_below_0_51: loShare, median_gap: medGap },
      });
    } else {
      const lo = quantile(alpha, 0.05),
        hi = quantile(alpha, 0.95);
      notes.push({
        id: 'alpha-range',
        level: 'info',
        text: `α moved between ${lo.toFixed(3)} and ${hi.toFixed(3)} (5th–95th percentile of the logged steps).`,
        suggestion: '',
        values: { alpha_p05: lo, alpha_p95: hi },
      });
    }
    const share = quantile(
      idx.map((i) => (h.loss[i] > 0 ? (lam2 * h.alpha[i] * h.l_temp[i]) / h.loss[i] : NaN)),
      0.5,
    );
    if (share < 0.01)
      notes.push({
        id: 'temporal-negligible',
        level: 'warn',
        text:
          `The temporal term λ2·α·L_temp was ${pct(share)} of the loss (median over the logged steps): ` +
          `it barely shapes training, so expect temporal metrics close to a plain SAE's.`,
        suggestion: `Try λ2 = ${num(lam2 * 10)} (ten times); at the same L_temp it would be about ${pct(Math.min(1, share * 10))} of the loss.`,
        values: { median_share: share, suggested_lambda2: lam2 * 10 },
      });
    else if (share > 0.5)
      notes.push({
        id: 'temporal-dominant',
        level: 'warn',
        text: `The temporal term was ${pct(share)} of the loss (median): it outweighs reconstruction.`,
        suggestion: `Check explained variance; try λ2 = ${num(lam2 / 10)}.`,
        values: { median_share: share, suggested_lambda2: lam2 / 10 },
      });
  } else if (lam2 === 0)
    notes.push({
      id: 'temporal-off',
      level: 'info',
      text: 'λ2 = 0: no temporal term (a control run).',
      suggestion: '',
      values: {},
    });
  const dead = h.dead_count[n - 1];
  if (dead > 0.5 * cfg.d_sae)
    notes.push({
      id: 'dead-features',
      level: 'warn',
      text: `${dead} of ${cfg.d_sae} features (${pct(dead / cfg.d_sae)}) were dead at the last readback.`,
      suggestion:
        // An architecture with AuxK (TopK) has no λ1 to lower (src/sae/architectures: configKeys).
        isArchitecture(cfg.architecture) && architectureOf(cfg.architecture).configKeys.includes('aux_k')
          ? 'Turn AuxK on (aux_k_coefficient 1/32) or lower the learning rate.'
          : 'Lower λ1 or the learning rate.',
      values: { dead_count: dead, dead_share: dead / cfg.d_sae },
    });
  const tenth = Math.max(1, Math.floor(n * 0.1));
  const first = quantile(h.l_recon.slice(1, 1 + tenth), 0.5);
  const last = quantile(h.l_recon.slice(n - tenth), 0.5);
  if (n >= 2 * MIN_ROWS && last >= 0.95 * first)
    notes.push({
      id: 'not-learning',
      level: 'warn',
      text: `L_recon did not improve: median ${num(first)} early, ${num(last)} at the end.`,
      suggestion: 'Try a higher learning rate or more tokens.',
      values: { l_recon_first: first, l_recon_last: last },
    });
  const r = cfg.topk_threshold_lr;
  const steps = h.step[n - 1];
  if (
    isArchitecture(cfg.architecture) &&
    architectureOf(cfg.architecture).gpu.activation === 'batchtopk' &&
    r !== undefined &&
    r > 0 &&
    r < 1 &&
    steps > 0
  ) {
    const left = Math.pow(1 - r, steps);
    if (left > 0.05) {
      const needed = Math.ceil(Math.log(20) / -Math.log(1 - r));
      notes.push({
        id: 'threshold-unsettled',
        level: 'warn',
        text:
          `The inference threshold θ starts at 0 and moves ${num(r)} of the way each step: after ${steps} ` +
          `steps ${pct(left)} of its distance is left, so evaluations and the export keep more than ` +
          `k${cfg.k !== undefined ? ` = ${cfg.k}` : ''} features per token (held-out L0 above the training L0).`,
        suggestion: `Train at least ${needed} steps, or raise topk_threshold_lr.`,
        values: { steps, topk_threshold_lr: r, remaining: left, steps_needed: needed },
      });
    }
  }
  return notes;
}
