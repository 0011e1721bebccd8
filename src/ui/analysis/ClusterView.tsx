// Temporal clustering view (SPEC §6): the dendrogram of the K most variable features (average linkage
// on 1 − correlation of their activation traces) beside a heatmap whose rows follow the leaf order,
// showing mean activation by position or the activations across one held-out sequence. Clicking a
// leaf (a row) opens that feature in the inspector.
import { useMemo } from 'react';
import type { EvalClustering } from '../../analysis/evaluate';
import type { HeatMode } from '../../store/analysisStore';
import { dendrogramModel, normalizeRows } from './dendrogramModel';
import { Heatmap, heatmapHeight } from './Heatmap';

export interface ClusterViewProps {
  clustering: EvalClustering;
  mode: HeatMode;
  sequence: number;
  width: number;
  onOpenFeature: (feature: number) => void;
}

const DENDRO_W = 150;

export function clusterRows(c: EvalClustering, mode: HeatMode, sequence: number): number[][] {
  const src = mode === 'position' ? c.heatByPosition : (c.heatBySequence[sequence] ?? c.heatByPosition);
  return normalizeRows(c.order.map((k) => src[k]));
}

export function ClusterView(p: ClusterViewProps) {
  const c = p.clustering;
  const K = c.order.length;
  const rowH = K <= 40 ? 12 : K <= 96 ? 7 : 5;
  const dm = useMemo(() => dendrogramModel(c.linkage, c.order, DENDRO_W - 10, rowH), [c, rowH]);
  const rows = useMemo(() => clusterRows(c, p.mode, p.sequence), [c, p.mode, p.sequence]);
  const labels = c.order.map((k) => `f${c.features[k]}`);
  const axis = [0, 0.5, 1].map((f) => f * dm.maxDist);
  return (
    <svg
      className="an-cluster"
      width={p.width}
      height={heatmapHeight(K, rowH)}
      role="img"
      aria-label="Temporal clustering: dendrogram and activation heatmap in leaf order"
      data-testid="cluster-view"
    >
      <g transform="translate(4,6)" data-testid="dendrogram">
        {dm.paths.map((d, i) => (
          <path key={i} d={d} fill="none" stroke="#7dd3fc" strokeWidth={1} />
        ))}
        {c.order.map((k, row) => (
          <circle
            key={k}
            className="an-leaf"
            data-testid={`leaf-${c.features[k]}`}
            cx={DENDRO_W - 10}
            cy={(row + 0.5) * rowH}
            r={Math.max(1.5, rowH / 2 - 0.5)}
            fill="#7dd3fc"
            onClick={() => p.onOpenFeature(c.features[k])}
          >
            <title>{`feature ${c.features[k]} — open in the inspector`}</title>
          </circle>
        ))}
        <g transform={`translate(0,${K * rowH + 4})`}>
          <line x1={0} x2={DENDRO_W - 10} stroke="#8a93b2" />
          {axis.map((d) => (
            <text key={d} x={dm.x(d)} y={13} fontSize={9} fill="#8a93b2" textAnchor="middle">
              {d.toFixed(2)}
            </text>
          ))}
          <text x={(DENDRO_W - 10) / 2} y={26} fontSize={10} fill="#8a93b2" textAnchor="middle">
            1 − corr
          </text>
        </g>
      </g>
      <Heatmap
        at={{ x: DENDRO_W, y: 0 }}
        rows={rows}
        width={Math.max(200, p.width - DENDRO_W - 8)}
        rowHeight={rowH}
        domain={[0, 1]}
        xLabel={
          p.mode === 'position' ? 'position in sequence' : `position in held-out sequence ${p.sequence}`
        }
        rowLabels={labels}
        labelWidth={40}
        onRowClick={(row) => p.onOpenFeature(c.features[c.order[row]])}
        rowTestId={(row) => `cluster-row-${c.features[c.order[row]]}`}
        legendLabel={p.mode === 'position' ? 'mean act. / row max' : 'activation / row max'}
        ariaLabel="Activation heatmap in leaf order"
        testId="cluster-heatmap"
      />
    </svg>
  );
}
