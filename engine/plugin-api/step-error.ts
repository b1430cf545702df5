// Owns the error a step raises for bad input (message and hint, no stack). Part of the public plugin API.

/** An error a step raises for bad input: shown as `message` and `hint`, without a stack trace. */
export class StepError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'StepError';
  }
}
