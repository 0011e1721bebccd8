// The OPFS store's listing against a fake directory tree in which files and folders vanish while the
// listing walks it (the storage panel lists after each save while checkpoints are pruned). CI once saw
// the real thing as an uncaught NotFoundError in the reload e2e; the listing must skip such entries.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openOpfsStore } from '../../../src/app/persistence/opfsStore';

const notFound = () => new DOMException('A requested file or directory could not be found', 'NotFoundError');

type Node = FakeDir | FakeFile;

class FakeFile {
  readonly kind = 'file';
  gone = false;
  constructor(public bytes: Uint8Array) {}
  async getFile() {
    if (this.gone) throw notFound();
    return { size: this.bytes.length, arrayBuffer: async () => this.bytes.slice().buffer };
  }
  async createWritable() {
    const parts: Uint8Array[] = [];
    return {
      write: async (p: Uint8Array) => void parts.push(p),
      close: async () => {
        this.bytes = new Uint8Array(parts.flatMap((p) => [...p]));
      },
      abort: async () => {},
    };
  }
}

class FakeDir {
  readonly kind = 'directory';
  gone = false;
  children = new Map<string, Node>();
  /** Called before each entry is yielded: lets a test delete things mid-walk. */
  onEntry: ((name: string) => void) | null = null;
  async getDirectoryHandle(name: string, o?: { create?: boolean }) {
    let c = this.children.get(name);
    if (!c && o?.create) this.children.set(name, (c = new FakeDir()));
    if (!(c instanceof FakeDir)) throw notFound();
    return c;
  }
  async getFileHandle(name: string, o?: { create?: boolean }) {
    let c = this.children.get(name);
    if (!c && o?.create) this.children.set(name, (c = new FakeFile(new Uint8Array())));
    if (!(c instanceof FakeFile)) throw notFound();
    return c;
  }
  async removeEntry(name: string) {
    const c = this.children.get(name);
    if (!c) throw notFound();
    c.gone = true;
    this.children.delete(name);
  }
  async *entries(): AsyncGenerator<[string, Node]> {
    if (this.gone) throw notFound();
    // Like the browser, the iterator keeps handles it already read even when they are removed.
    for (const [name, h] of [...this.children]) {
      this.onEntry?.(name);
      if (this.gone) throw notFound();
      yield [name, h];
    }
  }
}

async function storeOver(root: FakeDir) {
  vi.stubGlobal('navigator', { storage: { getDirectory: async () => root } });
  return openOpfsStore();
}

afterEach(() => vi.unstubAllGlobals());

describe('OPFS store listing while files vanish', () => {
  it('skips a file deleted between the directory read and its size', async () => {
    const root = new FakeDir();
    const s = await storeOver(root);
    await s.put('runs/a/run.json', new Uint8Array(3));
    await s.put('runs/a/checkpoints/step-50.safetensors', new Uint8Array(10));
    await s.put('runs/a/checkpoints/step-100.safetensors', new Uint8Array(12));
    const ck = (await (await root.getDirectoryHandle('runs')).getDirectoryHandle('a')).children.get(
      'checkpoints',
    ) as FakeDir;
    // step-50 is listed by the iterator before it vanishes; its size can no longer be read.
    ck.onEntry = (name) => {
      if (name === 'step-50.safetensors') void ck.removeEntry('step-50.safetensors');
    };
    const listed = await s.list('runs/');
    expect(listed).toEqual([
      { path: 'runs/a/checkpoints/step-100.safetensors', bytes: 12 },
      { path: 'runs/a/run.json', bytes: 3 },
    ]);
  });

  it('skips a folder removed while the walk is inside it', async () => {
    const root = new FakeDir();
    const s = await storeOver(root);
    await s.put('runs/a/run.json', new Uint8Array(3));
    await s.put('runs/b/run.json', new Uint8Array(4));
    await s.put('runs/b/checkpoints/step-5.safetensors', new Uint8Array(5));
    const runs = await root.getDirectoryHandle('runs');
    const b = await runs.getDirectoryHandle('b');
    b.onEntry = () => {
      b.gone = true; // the run was deleted from another tab
    };
    expect(await s.list('runs/')).toEqual([{ path: 'runs/a/run.json', bytes: 3 }]);
  });

  it('other errors still surface', async () => {
    const root = new FakeDir();
    const s = await storeOver(root);
    await s.put('runs/a/run.json', new Uint8Array(3));
    const a = await (await root.getDirectoryHandle('runs')).getDirectoryHandle('a');
    (a.children.get('run.json') as FakeFile).getFile = async () => {
      throw new DOMException('denied', 'NotAllowedError');
    };
    await expect(s.list('runs/')).rejects.toThrow(/denied/);
  });
});
