// A drop zone for files and folders with "pick files" / "a folder" buttons (hidden file inputs that
// tests drive with setInputFiles): the data panel's and the model panel's.
import { useRef, useState, type ReactNode } from 'react';
import type { PickedFile } from '../app/dataSession';

/** Walk a dropped folder (webkitGetAsEntry) into files with their relative paths. */
async function entryFiles(entry: FileSystemEntry, prefix = ''): Promise<PickedFile[]> {
  if (entry.isFile) {
    const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
    return [{ file, path: prefix + entry.name }];
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const out: PickedFile[] = [];
  // readEntries returns at most ~100 entries per call; read until it returns none.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
    if (batch.length === 0) break;
    for (const e of batch) out.push(...(await entryFiles(e, `${prefix}${entry.name}/`)));
  }
  return out;
}

async function droppedFiles(dt: DataTransfer): Promise<PickedFile[]> {
  const entries = Array.from(dt.items)
    .map((it) => it.webkitGetAsEntry?.())
    .filter((e): e is FileSystemEntry => !!e);
  if (entries.length) return (await Promise.all(entries.map((e) => entryFiles(e)))).flat();
  return Array.from(dt.files).map((file) => ({ file, path: file.name }));
}

function pickedFromInput(list: FileList | null): PickedFile[] {
  return Array.from(list ?? []).map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

export interface FileDropZoneProps {
  /** Receives the dropped or picked files (folder entries with their paths inside the folder). */
  onFiles(files: PickedFile[]): unknown;
  /** data-testid of the zone and of its two inputs. */
  testIds: { zone: string; files: string; folder: string };
  /** The file input's accept list, if any. */
  accept?: string;
  /** What to drop, in words (before the pick buttons). */
  children: ReactNode;
  /** Below the buttons. */
  hint?: ReactNode;
}

export function FileDropZone({ onFiles, testIds, accept, children, hint }: FileDropZoneProps) {
  const [over, setOver] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  return (
    <div
      className={`drop-zone${over ? ' over' : ''}`}
      data-testid={testIds.zone}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        void droppedFiles(e.dataTransfer).then(onFiles);
      }}
    >
      {children}, or{' '}
      <button className="link-button" onClick={() => fileInput.current?.click()}>
        pick files
      </button>{' '}
      ·{' '}
      <button className="link-button" onClick={() => folderInput.current?.click()}>
        a folder
      </button>
      <input
        ref={fileInput}
        type="file"
        multiple
        hidden
        data-testid={testIds.files}
        accept={accept}
        onChange={(e) => void onFiles(pickedFromInput(e.target.files))}
      />
      <input
        ref={(el) => {
          folderInput.current = el;
          el?.setAttribute('webkitdirectory', '');
        }}
        type="file"
        hidden
        data-testid={testIds.folder}
        onChange={(e) => void onFiles(pickedFromInput(e.target.files))}
      />
      {hint}
    </div>
  );
}
