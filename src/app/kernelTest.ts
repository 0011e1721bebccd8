// Entry of kernel-test.html: runs the GPU-vs-reference parity check on this browser's WebGPU and writes
// the result to window.__kernelTest (read by test/e2e/kernels.test.ts) and into the page as text.
import { requestGpu } from '../gpu/device';
import { runParityCheck, type ParityReport } from '../sae/parityCheck';

declare global {
  interface Window {
    __kernelTest?: ParityReport | { ok: false; error: string };
  }
}

async function main() {
  const out = document.getElementById('result')!;
  try {
    const gpu = await requestGpu(navigator.gpu, 'TempoSAE-kernel-test');
    const report = await runParityCheck(gpu);
    window.__kernelTest = report;
    out.textContent =
      `${report.ok ? 'PASS' : 'FAIL'} on ${report.adapter} (${report.gemmDesign} GEMMs)\n` +
      report.cases
        .map(
          (c) =>
            `${c.architecture}: ${c.ok ? 'ok' : 'MISMATCH'} worst ${c.worst.toFixed(3)} (${c.worstAt}) ${c.ms.toFixed(0)} ms`,
        )
        .join('\n');
  } catch (e) {
    window.__kernelTest = { ok: false, error: String(e) };
    out.textContent = `ERROR: ${String(e)}`;
  }
  out.dataset.done = '1';
}

void main();
