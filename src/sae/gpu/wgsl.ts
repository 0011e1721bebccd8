// WGSL has no includes: what the SAE kernels share is put in front of each kernel's own code here, the
// generated Params struct (PARAMS_FIELDS, layout.ts) and the Block struct (shaders/sae_common.wgsl).
import saeCommonCode from '../../../shaders/sae_common.wgsl?raw';
import { paramsStructWgsl } from './layout';

const prelude = `${paramsStructWgsl()}\n\n${saeCommonCode}`;

export function withSaeStructs(code: string): string {
  return `${prelude}\n${code}`;
}
