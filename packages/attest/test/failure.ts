import { expect } from 'vitest';
import { AttestError } from '../src/index.js';

/** Runs `fn`, which must throw an {@link AttestError}, and returns that error. */
export function failure(fn: () => unknown): AttestError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AttestError);
    return error as AttestError;
  }
  throw new Error('expected a failure');
}
