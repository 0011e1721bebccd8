import { architectureOf, type LossTerm } from '../../sae/architectures';
import type { TrainConfig } from '../../sae/config';

/** Shortest readable form of a coefficient: 0.04, 3e-4. */
function num(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) < 1e-3) return v.toExponential(0).replace('e-', 'e−');
  return String(+v.toPrecision(4));
}

const Sub = ({ children }: { children: string }) => <sub>{children}</sub>;
const L = ({ s }: { s: string }) => (
  <i>
    L<Sub>{s}</Sub>
  </i>
);

/** The loss of SPEC §4 with the draft's coefficients in place of the symbols. */
export function LossFormula({ cfg, alpha }: { cfg: TrainConfig; alpha: number | null }) {
  // The architecture's own terms (src/sae/architectures): λ1·L_sparse (L1 or L0), TopK's AuxK,
  // Matryoshka's L_mat and T-SAE's contrastive L_nce.
  const terms = architectureOf(cfg).lossTerms(cfg);
  const term = (id: LossTerm['id']) => terms.find((t) => t.id === id);
  const sparseTerm = term('sparse');
  const sparse = sparseTerm?.id === 'sparse' && (
    <>
      {' + '}
      <b>{num(cfg[sparseTerm.coefficient])}</b>·<L s={sparseTerm.kind} />
    </>
  );
  const auxTerm = term('aux');
  // Matryoshka: L_mat over nested prefixes in place of L_recon; T-SAE: + c·L_nce.
  const matTerm = term('matryoshka');
  const ncTerm = term('contrastive');
  const matPlan = matTerm ? architectureOf(cfg).gpu.matryoshka?.(cfg) : null;
  const gap =
    cfg.alpha_mode === 'relative' ? (
      <>
        (<L s="max" /> − <L s="recon" />
        )/
        <L s="max" />
      </>
    ) : (
      <>
        (<L s="max" /> − <L s="recon" />)
      </>
    );
  const lmax =
    cfg.lmax_mode === 'max' ? (
      <>
        max(
        <L s="recon" />, <b>{num(cfg.lmax_momentum)}</b>·<L s="max" /> + {num(1 - cfg.lmax_momentum)}·
        <L s="recon" />)
      </>
    ) : (
      <>
        <b>{num(cfg.lmax_momentum)}</b>·<L s="max" /> + {num(1 - cfg.lmax_momentum)}·<L s="recon" />
      </>
    );
  return (
    <div className="formula" data-testid="loss-formula" aria-label="Loss formula with current values">
      <span>
        <i>L</i> = <L s={matTerm ? 'mat' : 'recon'} />
        {sparse}
        {' + '}
        <b>{num(cfg.temporal_coefficient)}</b>·<i>α</i>·<L s="temp" />
        {auxTerm?.id === 'aux' ? (
          <>
            {' + '}
            <b>{num(cfg[auxTerm.coefficient])}</b>·<L s="aux" />
          </>
        ) : null}
        {ncTerm?.id === 'contrastive' ? (
          <>
            {' + '}
            <b>{num(cfg[ncTerm.coefficient])}</b>·<L s="nce" />
          </>
        ) : null}
      </span>
      {matPlan ? (
        <span data-testid="loss-formula-matryoshka">
          <L s="mat" /> = Σ<Sub>g</Sub> c<Sub>g</Sub>·mean ‖x − x̂<Sub>&lt;e_g</Sub>‖², e ={' '}
          <b>[{matPlan.ends.join(', ')}]</b>, c ={' '}
          <b>[{matPlan.weights.map((w) => num(w / matPlan.ends.length)).join(', ')}]</b>
        </span>
      ) : null}
      {ncTerm && matPlan ? (
        <span className="muted">
          <L s="nce" /> = symmetric InfoNCE of {cfg.contrastive_similarity === 'cosine' ? 'cos' : 'dot'}(f
          <Sub>t</Sub>[0:{matPlan.ends[0]}], f<Sub>t−1</Sub>[0:{matPlan.ends[0]}])/
          <b>{num(cfg.contrastive_temperature)}</b> over adjacent tokens of one document
        </span>
      ) : null}
      <span>
        <i>α</i> = σ(<b>{num(cfg.alpha_beta)}</b>·{gap})
        {alpha !== null ? <span className="muted"> = {alpha.toFixed(3)}</span> : null}
      </span>
      <span>
        <L s="max" /> ← {lmax}
      </span>
      <span className="muted">
        <L s="recon" /> = mean {cfg.recon_loss === 'squared' ? '‖x − x̂‖²' : '‖x − x̂‖'} · <L s="temp" /> = mean
        ‖f<Sub>t</Sub> − f<Sub>t−1</Sub>‖₁, f<Sub>−1</Sub> {cfg.seq_start_mode === 'zero' ? '= 0' : 'skipped'}
      </span>
    </div>
  );
}
