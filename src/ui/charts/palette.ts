// Colours: one per run (stable by creation order), one per loss term. Chosen to stay distinct on the
// dark panel background and for the common colour-vision deficiencies (Tableau 10 order).
export const RUN_COLORS = [
  '#7dd3fc',
  '#fb923c',
  '#4ade80',
  '#f472b6',
  '#facc15',
  '#a78bfa',
  '#2dd4bf',
  '#f87171',
  '#cbd5e1',
  '#a3e635',
];

export function runColor(index: number): string {
  return RUN_COLORS[index % RUN_COLORS.length];
}

export const TERM_COLORS = {
  total: '#e4e8f4',
  recon: '#7dd3fc',
  sparse: '#fbbf24',
  temp: '#f0abfc',
  aux: '#4ade80',
  mat: '#38bdf8',
  nce: '#f87171',
  lmax: '#fb923c',
  alpha: '#a78bfa',
};
