import type { OpenAPIObject, OperationObject } from '@nestjs/swagger';

/**
 * For what decorators cannot say directly: each operation of the document that carries `mark` (an
 * `x-` extension a decorator left) is handed to `apply` with the mark's value, and the mark removed.
 */
export function applyOperationMarks<T>(document: OpenAPIObject, mark: `x-${string}`, apply: (operation: OperationObject, value: T) => void): void {
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as (OperationObject & Record<string, unknown>)[]) {
      if (typeof operation !== 'object' || !operation || !(mark in operation)) continue;
      const value = operation[mark] as T;
      delete operation[mark];
      apply(operation, value);
    }
  }
}
