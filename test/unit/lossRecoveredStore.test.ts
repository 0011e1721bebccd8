// Loss recovered stored with the run's evaluation record (issue 12): the store action puts it on the
// latest record at or before the step evaluated and leaves the others alone; the views read the latest.
import { beforeEach, describe, expect, it } from 'vitest';
import { useAnalysisStore, type EvalRecord, type LossRecoveredRecord } from '../../src/store/analysisStore';
import { latestLossRecovered } from '../../src/ui/probe/lossRecoveredFormat';

const rec = (step: number): EvalRecord =>
  ({
    step,
    tokensSeen: step * 10,
    metrics: { l0: 3 },
    byPosition: {},
    densityHist: {},
    ms: 1,
  }) as unknown as EvalRecord;
const lr = (score: number): LossRecoveredRecord => ({
  ce_loss_score: score,
  ce_loss_with_sae: 2,
  ce_loss_without_sae: 1,
  ce_loss_with_ablation: 3,
  kl_div_score: 0.5,
  kl_div_with_sae: 0.1,
  kl_div_with_ablation: 0.2,
  total_tokens_eval_reconstruction: 32,
  ce_tokens: 28,
  kl_tokens: 30,
  model: 'm',
  hook: 'blocks.0.hook_resid_pre',
  rows: 2,
  ms: 5,
});

describe('loss recovered in the analysis store', () => {
  beforeEach(() => {
    useAnalysisStore.setState({ byRun: {}, lossRecovered: {} });
    useAnalysisStore.getState().evaluationsRestored('r', [rec(10), rec(20), rec(30)]);
  });

  it('goes onto the latest record at or before its step, and the views read the newest one', () => {
    const st = useAnalysisStore.getState();
    st.lossRecoveredProgress('r', { running: true, rowsDone: 1, rows: 2, error: null });
    st.lossRecoveredRecorded('r', 25, lr(0.5));
    let evals = useAnalysisStore.getState().byRun.r.evals;
    expect(evals.map((e) => e.lossRecovered?.ce_loss_score)).toEqual([undefined, 0.5, undefined]);
    expect(useAnalysisStore.getState().lossRecovered.r.running).toBe(false);
    expect(latestLossRecovered(useAnalysisStore.getState().byRun.r)).toMatchObject({
      step: 20,
      ce_loss_score: 0.5,
    });
    st.lossRecoveredRecorded('r', 30, lr(0.8));
    evals = useAnalysisStore.getState().byRun.r.evals;
    expect(evals.map((e) => e.lossRecovered?.ce_loss_score)).toEqual([undefined, 0.5, 0.8]);
    expect(latestLossRecovered(useAnalysisStore.getState().byRun.r)?.step).toBe(30);
  });

  it('a step before every record changes nothing; a run without one reads null', () => {
    const before = useAnalysisStore.getState().byRun.r.evals;
    useAnalysisStore.getState().lossRecoveredRecorded('r', 5, lr(0.5));
    expect(useAnalysisStore.getState().byRun.r.evals).toEqual(before);
    expect(latestLossRecovered(useAnalysisStore.getState().byRun.r)).toBeNull();
    expect(latestLossRecovered(undefined)).toBeNull();
  });
});
