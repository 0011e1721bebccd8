// WGSL has no includes: what the SAE kernels share is put in front of each kernel's own code here:
//   the Params struct, generated from PARAMS_FIELDS (layout.ts), the same table packParams writes from;
//   the Block struct (shaders/sae_common.wgsl);
//   shaders/lib_reduce.wgsl (workgroup tree sums) when the kernel calls a tree_sum_* function;
//   shaders/lib_select.wgsl (the per-row radix select) when it calls radix_select;
//   shaders/lib_batchtopk.wgsl (BatchTopK select-state words) when it names one (BTK_*, btk_key).
import libReduceCode from '../../../shaders/lib_reduce.wgsl?raw';
import libBatchTopkCode from '../../../shaders/lib_batchtopk.wgsl?raw';
import libSelectCode from '../../../shaders/lib_select.wgsl?raw';
import saeCommonCode from '../../../shaders/sae_common.wgsl?raw';
import { paramsStructWgsl } from './layout';

const prelude = `${paramsStructWgsl()}\n\n${saeCommonCode}`;

/** The WGSL library files and the calls that pull each in. */
const LIBRARIES: [RegExp, string][] = [
  [/\btree_sum_\w+\s*\(/, libReduceCode],
  [/\bradix_select\s*\(/, libSelectCode],
  [/\b(BTK_\w+|btk_key|btk_budget|STATE_TOPK_THRESHOLD)\b/, libBatchTopkCode],
];

export function withSaeStructs(code: string): string {
  const libs = LIBRARIES.filter(([uses]) => uses.test(code)).map(([, lib]) => lib);
  return [prelude, ...libs, code].join('\n');
}
