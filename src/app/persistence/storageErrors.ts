// Storage failures in words: a full disk or a denied quota must be a clear message and never cost the
// run (the trainer keeps its state in GPU memory; only the save failed).

export class StorageFullError extends Error {
  constructor(
    readonly what: string,
    readonly neededBytes: number,
  ) {
    super(
      `Browser storage is full: could not save ${what} (${formatBytes(neededBytes)}). ` +
        'Delete old checkpoints or runs in the Storage panel, or export the run; training continues in memory.',
    );
    this.name = 'StorageFullError';
  }
}

export class StorageDeniedError extends Error {
  constructor(readonly detail: string) {
    super(
      `The browser does not let this page store files (${detail}). Runs are kept only until the tab closes; ` +
        'export them to keep them (private windows and some settings block storage).',
    );
    this.name = 'StorageDeniedError';
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** True for the errors browsers raise when a write would pass the quota. */
export function isQuotaError(e: unknown): boolean {
  const name = (e as { name?: string })?.name;
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED';
}

/** Map a failed write to StorageFullError when it was the quota; anything else passes through. */
export function storageWriteError(e: unknown, what: string, bytes: number): Error {
  if (isQuotaError(e)) return new StorageFullError(what, bytes);
  return e instanceof Error ? e : new Error(String(e));
}
