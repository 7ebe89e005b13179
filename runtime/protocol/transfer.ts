/**
 * How a task's answer says which of its parts move to the main thread instead of being copied:
 * piscina's transferable shape, `{ [kTransferable]: list, [kValue]: value }`. Both are
 * registered symbols (Symbol.for), so the worker side can build the shape without importing
 * piscina; the worker entry then marks it movable, which only piscina's own code can do.
 */
export const kTransferable: unique symbol = Symbol.for('Piscina.transferable') as never;
export const kValue: unique symbol = Symbol.for('Piscina.valueOf') as never;

/** `value`, with the listed parts to be moved rather than copied. */
export interface Transfer<T> {
  readonly [kTransferable]: readonly (ArrayBuffer | MessagePortLike)[];
  readonly [kValue]: T;
}

/** A MessagePort, without importing node:worker_threads' types into every reader of this file. */
export interface MessagePortLike {
  postMessage(value: unknown, transferList?: readonly unknown[]): void;
}

export function transfer<T>(value: T, list: readonly (ArrayBuffer | MessagePortLike)[]): Transfer<T> {
  return { [kTransferable]: list, [kValue]: value };
}

export function isTransfer(value: unknown): value is Transfer<unknown> {
  return value !== null && typeof value === 'object' && kTransferable in value;
}

/** Marks a Transfer so that piscina moves its list: given to the task handler by the worker entry. */
export type MarkMovable = (value: Transfer<unknown>) => void;
