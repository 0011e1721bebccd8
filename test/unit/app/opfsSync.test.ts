// Streamed checkpoints through OPFS sync access handles (src/app/persistence/opfsSync.ts) against an
// in-memory model of the OPFS handle API with its locking rules (a sync handle locks its file: a second
// readwrite handle, a removeEntry or a move onto it fail with NoModificationAllowedError; read-only
// handles share) and a quota (QuotaExceededError). The real browser runs the same code in a dedicated
// worker in test/e2e/opfsSync.test.ts.
import { describe, expect, it } from 'vitest';
import {
  openFileReader,
  OpfsFileError,
  requireFileReader,
  sweepPartials,
  writeFileStreamed,
  type SyncAccessHandle,
  type SyncDirHandle,
  type SyncFileHandle,
} from '../../../src/app/persistence/opfsSync';
import { StorageFullError } from '../../../src/app/persistence/storageErrors';
import {
  openCheckpoint,
  readCheckpoint,
  serializeCheckpointParts,
  type Checkpoint,
} from '../../../src/io/checkpoint';
import { DEFAULT_CONFIG } from '../../../src/sae/config';
import { initialTrainerState } from '../../../src/sae/init';

const domError = (name: string, msg = name) => Object.assign(new Error(msg), { name });

/** An OPFS tree in memory: files are byte arrays; `open` counts the sync handles open on each file. */
class FakeFs {
  readonly files = new Map<string, Uint8Array>();
  readonly locks = new Map<string, { rw: boolean; n: number }>();
  opened = 0;
  constructor(
    readonly quota = Infinity,
    /** How a write over the quota fails: a QuotaExceededError, or (Chromium's sync handles) a count
     *  that is not the part's length (2³² − 8, FILE_ERROR_NO_SPACE as an unsigned long). */
    readonly overQuota: 'throw' | 'count' = 'throw',
  ) {}
  used(): number {
    return [...this.files.values()].reduce((a, b) => a + b.length, 0);
  }
  openHandles(): number {
    return [...this.locks.values()].reduce((a, l) => a + l.n, 0);
  }
  dir(path: string): SyncDirHandle {
    return fakeDir(this, path);
  }
  file(path: string): SyncFileHandle {
    return fakeFile(this, path);
  }
}

function fakeDir(fs: FakeFs, path: string): SyncDirHandle {
  const child = (name: string) => (path ? `${path}/${name}` : name);
  return {
    kind: 'directory',
    async getDirectoryHandle(name, o) {
      if (!o?.create && ![...fs.files.keys()].some((p) => p.startsWith(child(name) + '/')))
        throw domError('NotFoundError');
      return fs.dir(child(name));
    },
    async getFileHandle(name, o) {
      const p = child(name);
      if (!fs.files.has(p)) {
        if (!o?.create) throw domError('NotFoundError');
        fs.files.set(p, new Uint8Array(0));
      }
      return fs.file(p);
    },
    async removeEntry(name) {
      const p = child(name);
      if (!fs.files.has(p)) throw domError('NotFoundError');
      if (fs.locks.get(p)?.n) throw domError('NoModificationAllowedError');
      fs.files.delete(p);
    },
    async *entries() {
      const seen = new Set<string>();
      for (const p of fs.files.keys()) {
        if (path && !p.startsWith(path + '/')) continue;
        const rest = path ? p.slice(path.length + 1) : p;
        const head = rest.split('/')[0];
        if (seen.has(head)) continue;
        seen.add(head);
        yield [head, rest.includes('/') ? fs.dir(child(head)) : fs.file(child(head))];
      }
    },
  };
}

function fakeFile(fs: FakeFs, path: string): SyncFileHandle {
  let cur = path;
  return {
    kind: 'file',
    async getFile() {
      const b = fs.files.get(cur);
      if (!b) throw domError('NotFoundError');
      return { size: b.length } as File;
    },
    async createSyncAccessHandle(o) {
      if (!fs.files.has(cur)) throw domError('NotFoundError');
      const rw = o?.mode !== 'read-only';
      const lock = fs.locks.get(cur) ?? { rw, n: 0 };
      if (lock.n && (lock.rw || rw)) throw domError('NoModificationAllowedError');
      fs.locks.set(cur, { rw, n: lock.n + 1 });
      fs.opened++;
      const p = cur;
      let closed = false;
      const check = () => {
        if (closed) throw domError('InvalidStateError', 'the handle is closed');
      };
      const h: SyncAccessHandle = {
        read(buf, at) {
          check();
          const b = fs.files.get(p)!;
          const part = b.subarray(at?.at ?? 0, (at?.at ?? 0) + buf.length);
          buf.set(part);
          return part.length;
        },
        write(buf, at) {
          check();
          if (!rw) throw domError('NoModificationAllowedError');
          const off = at?.at ?? 0;
          const b = fs.files.get(p)!;
          const end = Math.max(b.length, off + buf.length);
          if (fs.used() - b.length + end > fs.quota) throw domError('QuotaExceededError');
          const next = new Uint8Array(end);
          next.set(b);
          next.set(buf, off);
          fs.files.set(p, next);
          return buf.length;
        },
        truncate(n) {
          check();
          const b = fs.files.get(p)!;
          const next = new Uint8Array(n);
          next.set(b.subarray(0, n));
          fs.files.set(p, next);
        },
        getSize: () => fs.files.get(p)!.length,
        flush: check,
        close() {
          check();
          closed = true;
          const l = fs.locks.get(p)!;
          l.n--;
        },
      };
      return h;
    },
    async move(name) {
      const to = cur.includes('/') ? `${cur.slice(0, cur.lastIndexOf('/'))}/${name}` : name;
      if (fs.locks.get(cur)?.n || fs.locks.get(to)?.n) throw domError('NoModificationAllowedError');
      fs.files.set(to, fs.files.get(cur)!);
      fs.files.delete(cur);
      cur = to;
    },
  };
}

const cfg = { ...DEFAULT_CONFIG, d_in: 4, d_sae: 6 };
function ck(step: number): Checkpoint {
  const w = {
    d_in: 4,
    d_sae: 6,
    W_enc: new Float32Array(24).map((_, i) => step + i / 8),
    b_enc: new Float32Array(6).fill(-step),
    W_dec: new Float32Array(24).fill(0.5),
    b_dec: new Float32Array(4).fill(step / 3),
  };
  return {
    config: cfg,
    trainer: { ...initialTrainerState(w), step, tokens_seen: step * 2048, alpha: { l_max: 0.3 } },
    data_state: { epoch: 0, cursor: step },
    scaling_factor: 1,
    extra: {},
    created_at: 'now',
  };
}
const parts = (c: Checkpoint) => serializeCheckpointParts(c);
const total = (c: Checkpoint) => parts(c).reduce((a, p) => a + p.length, 0);
const PATH = 'runs/run-1/checkpoints/step-000000005.safetensors';

async function readBack(root: SyncDirHandle, path: string): Promise<Checkpoint> {
  return readCheckpoint(await openCheckpoint((await openFileReader(root, path))!, path));
}

describe('OPFS sync-handle checkpoints', () => {
  it('streams part by part into <name>.partial, moves it onto the name, reads back exactly; every handle closed', async () => {
    const fs = new FakeFs();
    const root = fs.dir('');
    let seenPartial = false;
    const bytes = await writeFileStreamed(root, PATH, async (sink) => {
      for (const p of parts(ck(5))) {
        await sink.write(p);
        seenPartial ||= fs.files.has(`${PATH}.partial`) && !fs.files.has(PATH);
      }
    });
    expect(seenPartial).toBe(true);
    expect(bytes).toBe(total(ck(5)));
    expect([...fs.files.keys()]).toEqual([PATH]);
    expect(await readBack(root, PATH)).toEqual(ck(5));
    expect(fs.openHandles()).toBe(0);
    // A read opens a handle per read and closes it (no lock left on a checkpoint that may be pruned).
    expect(fs.opened).toBeGreaterThan(3);
  });

  it('a save that fails half-way leaves the old file whole, no partial, no open handle; the error passes through', async () => {
    const fs = new FakeFs();
    const root = fs.dir('');
    await writeFileStreamed(root, PATH, (sink) => parts(ck(5)).forEach((p) => sink.write(p)));
    const old = fs.files.get(PATH)!.slice();
    await expect(
      writeFileStreamed(root, PATH, async (sink) => {
        await sink.write(parts(ck(6))[0]);
        throw new Error('the device was lost');
      }),
    ).rejects.toThrow(/^the device was lost$/);
    expect([...fs.files.keys()]).toEqual([PATH]);
    expect(fs.files.get(PATH)).toEqual(old);
    expect(fs.openHandles()).toBe(0);
  });

  it('a partial left by a crash (longer than the new file) is truncated by the next save', async () => {
    const fs = new FakeFs();
    const root = fs.dir('');
    fs.files.set(`${PATH}.partial`, new Uint8Array(total(ck(5)) + 999).fill(7));
    await writeFileStreamed(root, PATH, (sink) => parts(ck(5)).forEach((p) => sink.write(p)));
    expect(fs.files.get(PATH)!.length).toBe(total(ck(5)));
    expect(await readBack(root, PATH)).toEqual(ck(5));
  });

  it.each(['throw', 'count'] as const)(
    'a full quota (%s) is a StorageFullError naming the file; the old file stays, nothing is left open',
    async (overQuota) => {
      const size = total(ck(5));
      const fs = new FakeFs(size + size / 2, overQuota);
      const root = fs.dir('');
      await writeFileStreamed(root, PATH, (sink) => parts(ck(5)).forEach((p) => sink.write(p)));
      const err = await writeFileStreamed(root, PATH, (sink) =>
        parts(ck(6)).forEach((p) => sink.write(p)),
      ).catch((e: Error) => e);
      expect(err).toBeInstanceOf(StorageFullError);
      expect((err as Error).message).toMatch(
        /Browser storage is full: could not save runs\/run-1\/checkpoints\/step-000000005\.safetensors \(/,
      );
      expect([...fs.files.keys()]).toEqual([PATH]);
      expect(await readBack(root, PATH)).toEqual(ck(5));
      expect(fs.openHandles()).toBe(0);
    },
  );

  it('missing files, reads past the end and a file held elsewhere are messages naming the file', async () => {
    const fs = new FakeFs();
    const root = fs.dir('');
    expect(await openFileReader(root, 'runs/none/step-1.safetensors')).toBeNull();
    await expect(requireFileReader(root, 'runs/none/step-1.safetensors')).rejects.toThrow(
      /^runs\/none\/step-1\.safetensors: not found$/,
    );
    await writeFileStreamed(root, PATH, (sink) => parts(ck(5)).forEach((p) => sink.write(p)));
    const r = (await openFileReader(root, PATH))!;
    await expect(Promise.resolve(r.read(r.size - 4, 8))).rejects.toThrow(
      new OpfsFileError(
        PATH,
        `a read of 8 bytes at ${r.size - 4} passes the end of the file (${r.size} bytes)`,
      ),
    );
    await expect(Promise.resolve(r.read(-1, 4))).rejects.toThrow(/bad read of 4 bytes at -1/);
    // Another save of the same name in progress holds the partial's lock.
    const other = await (
      await root.getDirectoryHandle('runs')
    )
      .getDirectoryHandle('run-1')
      .then((d) => d.getDirectoryHandle('checkpoints'))
      .then((d) => d.getFileHandle('step-000000005.safetensors.partial', { create: true }))
      .then((f) => f.createSyncAccessHandle());
    await expect(writeFileStreamed(root, PATH, () => {})).rejects.toThrow(
      `${PATH}.partial: is open in another handle (another tab or worker is using it)`,
    );
    // sweepPartials leaves the held one alone, then removes it once released.
    expect(await sweepPartials(root)).toEqual([]);
    other.close();
    expect(await sweepPartials(root, 'runs/')).toEqual([`${PATH}.partial`]);
    expect(fs.openHandles()).toBe(0);
    expect(await readBack(root, PATH)).toEqual(ck(5));
  });
});
