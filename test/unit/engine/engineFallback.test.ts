// Where the browser gives the engine's Worker no GPU adapter, the page trains with the same engine on its
// own thread (and says so); where the worker has one, commands go to the worker. A stand-in Worker class
// answers the hello as the real worker would.
import { afterEach, describe, expect, it } from 'vitest';
import { useEngineStatus, workerEngine, type TrainingBackend } from '../../../src/app/engineClient';
import type { EngineEvent, ToEngine } from '../../../src/engine/protocol';

const realWorker = (globalThis as { Worker?: unknown }).Worker;
afterEach(() => {
  (globalThis as { Worker?: unknown }).Worker = realWorker;
  useEngineStatus.setState({ kind: null, adapter: null, note: null });
});

/** A Worker whose engine answers hello with `adapter`, and records every other command it is sent. */
function fakeWorker(adapter: string | null, seen: ToEngine[], terminated: { yes: boolean }) {
  return class {
    onmessage: ((ev: MessageEvent<EngineEvent>) => void) | null = null;
    private listeners: ((ev: MessageEvent<EngineEvent>) => void)[] = [];
    addEventListener(type: string, l: (ev: MessageEvent<EngineEvent>) => void) {
      if (type === 'message') this.listeners.push(l);
    }
    removeEventListener(_t: string, l: (ev: MessageEvent<EngineEvent>) => void) {
      this.listeners = this.listeners.filter((x) => x !== l);
    }
    postMessage(m: ToEngine) {
      const reply = (e: EngineEvent) =>
        setTimeout(() => {
          const ev = { data: e } as MessageEvent<EngineEvent>;
          for (const l of [...this.listeners]) l(ev);
          this.onmessage?.(ev);
        }, 0);
      if (m.op === 'hello')
        reply({
          type: 'reply',
          id: m.id,
          ok: true,
          value: { kind: 'worker', adapter, reason: adapter ? undefined : 'no adapter', files: false },
        });
      else {
        seen.push(m);
        reply({ type: 'reply', id: m.id, ok: true, value: null });
      }
    }
    terminate() {
      terminated.yes = true;
    }
  };
}

const backend: TrainingBackend = {
  openData: () => Promise.reject(new Error('unused')),
  createTrainer: () => Promise.reject(new Error('unused')),
  yieldToPage: () => Promise.resolve(),
  now: () => 0,
  adapter: async () => 'the page’s adapter',
};

describe('which engine the page gets', () => {
  it('a worker without an adapter: the same engine on the page, said in the status', async () => {
    const seen: ToEngine[] = [];
    const terminated = { yes: false };
    (globalThis as { Worker?: unknown }).Worker = fakeWorker(null, seen, terminated);
    const client = workerEngine(() => backend);
    // A command sent before the answer waits and then goes to the page's engine.
    const settled = client.call('settings', { clusterK: 3 });
    await expect(settled).resolves.toBeNull();
    expect(client.kind).toBe('in-process');
    expect(client.host).not.toBeNull();
    expect(terminated.yes).toBe(true);
    expect(seen).toEqual([]);
    await expect.poll(() => useEngineStatus.getState().kind).toBe('in-process');
    expect(useEngineStatus.getState().note).toContain('no GPU adapter');
  });

  it('a worker with an adapter: commands go to it, in order, after its hello', async () => {
    const seen: ToEngine[] = [];
    const terminated = { yes: false };
    (globalThis as { Worker?: unknown }).Worker = fakeWorker('SwiftShader', seen, terminated);
    const client = workerEngine(() => backend);
    await Promise.all([client.call('settings', { clusterK: 1 }), client.call('close', { runId: 'r' })]);
    expect(client.kind).toBe('worker');
    expect(client.host).toBeNull();
    expect(terminated.yes).toBe(false);
    expect(seen.map((m) => m.op)).toEqual(['settings', 'close']);
    expect(useEngineStatus.getState()).toMatchObject({ kind: 'worker', adapter: 'SwiftShader' });
  });
});
