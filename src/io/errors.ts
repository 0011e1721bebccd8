// One error class for every problem with an SAE / checkpoint / history file, so the UI and the CLI can
// show "file: problem" and keep whatever was already loaded (SPEC §7: a bad file changes nothing else).

export class SaeFileError extends Error {
  constructor(
    /** The file (or folder) the problem is in, as the user named it. */
    readonly file: string,
    /** What is wrong, in words. */
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'SaeFileError';
  }
}

/** JSON.parse that reports bad JSON as a SaeFileError naming the file. */
export function parseJsonFile(text: string, fileName: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SaeFileError(fileName, `not valid JSON (${(e as Error).message})`);
  }
}
