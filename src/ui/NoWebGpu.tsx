/** Shown instead of the app when WebGPU cannot be used: says what the user needs, not a stack trace. */
export function NoWebGpu({ reason }: { reason: string }) {
  const insecure = typeof window !== 'undefined' && !window.isSecureContext;
  return (
    <main className="no-webgpu" data-testid="no-webgpu">
      <h1>TempoSAE needs WebGPU</h1>
      <p className="reason">{reason}</p>
      {insecure && (
        <p>
          This page is not a secure context. WebGPU only works over <code>https://</code> or on{' '}
          <code>http://localhost</code>.
        </p>
      )}
      <h2>What works</h2>
      <ul>
        <li>
          Chrome or Edge 113 or newer on Windows, macOS and ChromeOS; on Linux, Chrome 121+ with a recent
          driver.
        </li>
        <li>
          On Linux, if it is still off, enable <code>chrome://flags/#enable-unsafe-webgpu</code> and{' '}
          <code>chrome://flags/#enable-vulkan</code>, then restart the browser.
        </li>
        <li>Safari 26 (macOS Tahoe / iOS 26) and Firefox 141+ on Windows ship WebGPU.</li>
        <li>
          No GPU at all? Chromium can emulate one with SwiftShader: start it with{' '}
          <code>--enable-unsafe-webgpu --enable-features=Vulkan --use-webgpu-adapter=swiftshader</code> (slow,
          but correct).
        </li>
      </ul>
      <p>
        Check <code>chrome://gpu</code> for “WebGPU: Hardware accelerated”. The command-line trainer (
        <code>npm run cli</code>) runs the same kernels through Dawn without a browser.
      </p>
    </main>
  );
}
