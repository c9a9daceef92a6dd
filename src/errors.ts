/**
 * Errors caused by the user's input (a file, a config field, a limit). The CLI prints the
 * message alone and exits with code 2; everything else is a bug and keeps its stack.
 */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** A GPU failure (validation, out of memory, device lost), named by the kernel that caused it. */
export class GpuError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuError';
  }
}
