/** Asserts that `fn` throws an Hl7Error with `code` (the kernel's errors carry a stable code). */
import { Hl7Error } from '../../hl7/hl7-errors';

export function expectHl7Error(fn: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(Hl7Error);
  expect((thrown as Hl7Error).code).toBe(code);
}
