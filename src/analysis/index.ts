// Public API of the analysis layer (SPEC §6): metric accumulators, held-out evaluation, clustering,
// ground truth and cross-run matching. Pure functions over typed arrays; no GPU, no React.
export type { EvalChunk } from './chunk';
export { isValidPair } from './chunk';
export { ReconAccumulator, type ReconMetrics } from './reconstruction';
export { SparsityAccumulator, DENSE_THRESHOLD, type SparsityMetrics } from './sparsity';
export { TemporalAccumulator, type TemporalMetrics } from './temporal';
export { densityHistogram, logDensity, LOG_DENSITY_EPS, type DensityHistogram } from './histogram';
export { matchTrueFeatures, mmcs, recovered, nearestTrueFeature, RECOVERED_THRESHOLD } from './groundTruth';
export { greedyMatch, type FeatureMatching } from './matching';
export { clusterTraces, correlation, mostVariable, TraceCollector, DEFAULT_CLUSTER_K } from './clustering';
export { upgma, leafOrder, type Linkage } from './upgma';
export { benchClustering, type ClusteringBenchResult } from './clusteringBench';
export {
  evaluateHeldOut,
  type EvalOptions,
  type EvalResult,
  type EvalMetrics,
  type EvalByPosition,
  type EvalClustering,
  type ForwardFn,
  type HeldOut,
} from './evaluate';
