// Every problem with a user's data file surfaces as a DataFileError that names the file and the
// problem (SPEC §7: "a bad file gets a clear message naming the file and the problem"). Parsers throw
// nothing else on bad input; the fuzz test (test/unit/data/fuzz.test.ts) holds them to that.

export class DataFileError extends Error {
  /** The file (or folder) the problem is in. */
  readonly file: string;
  /** The problem alone, without the file name. */
  readonly problem: string;

  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'DataFileError';
    this.file = file;
    this.problem = problem;
  }
}

/** Throws a DataFileError unless `cond` holds. */
export function check(cond: unknown, file: string, problem: string): asserts cond {
  if (!cond) throw new DataFileError(file, problem);
}

/**
 * Runs a parsing step whose library (flatbuffers, fflate, JSON) may throw anything on hostile bytes
 * and turns any such exception into a DataFileError.
 */
export async function guarded<T>(file: string, what: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof DataFileError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new DataFileError(file, `${what}: ${msg}`);
  }
}
