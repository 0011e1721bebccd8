// Loss recovered as the views show it (issue 12): which record is the run's latest, the SAEBench names
// in their order with what each means, and the number format. Pure; shared by Features and Compare.
import type { LossRecoveredRecord, RunAnalysis } from '../../store/analysisStore';

/** The run's latest loss-recovered record (on its evaluation records), or null. */
export function latestLossRecovered(
  a: RunAnalysis | undefined,
): (LossRecoveredRecord & { step: number }) | null {
  const evals = a?.evals ?? [];
  for (let i = evals.length - 1; i >= 0; i--) {
    const lr = evals[i].lossRecovered;
    if (lr) return { ...lr, step: evals[i].step };
  }
  return null;
}

/** The numbers shown, in SAEBench's names and order. */
export const LOSS_RECOVERED_FIELDS: { key: keyof LossRecoveredRecord; help: string }[] = [
  {
    key: 'ce_loss_score',
    help: '(CE_abl − CE_sae) / (CE_abl − CE_clean): 1 = the SAE costs nothing, 0 = as bad as zeroing the hook',
  },
  { key: 'ce_loss_with_sae', help: 'next-token cross-entropy with x̂ spliced in (nats)' },
  { key: 'ce_loss_without_sae', help: 'clean next-token cross-entropy (nats)' },
  { key: 'ce_loss_with_ablation', help: 'cross-entropy with the hook zeroed (nats)' },
  { key: 'kl_div_score', help: '(KL_abl − KL_sae) / KL_abl' },
  { key: 'kl_div_with_sae', help: 'KL(clean ‖ spliced) per token (nats)' },
  { key: 'kl_div_with_ablation', help: 'KL(clean ‖ zero-ablated) per token (nats)' },
];

export const formatLr = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : '—');
