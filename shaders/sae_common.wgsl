// Structs shared by the SAE kernels (withSaeStructs in src/sae/gpu/wgsl.ts prepends this file to each of
// them: WGSL has no includes). Block describes the row or feature block a dispatch covers when matrices
// are split across bindings (src/sae/gpu/chunks.ts). The Params uniform is not written here: its struct
// and its host packer are both generated from PARAMS_FIELDS in src/sae/gpu/layout.ts.

struct Block {
  row0: u32,  // first batch row of this row block (whole sequences)
  rows: u32,  // rows in the block
  feat0: u32, // first feature of this feature block
  feats: u32, // features in the block
  first: u32, // 1: first block of an accumulation (write), 0: add to what earlier blocks wrote
  last: u32,  // 1: last block of an accumulation
  _b0: u32,
  _b1: u32,
}
