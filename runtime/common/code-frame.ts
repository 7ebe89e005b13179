import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { isInside } from './is-inside.js';

/**
 * A source excerpt pointing at one place:
 * ```
 *   12 │   const total = order.items.reduce(;
 *      │                                    ^
 * ```
 * `line` and `column` are 1-based.
 */
export function codeFrame(lineText: string, line: number, column: number, length = 1): string {
  const gutter = String(line).length;
  const caretIndent = lineText.slice(0, column - 1).replace(/[^\t]/g, ' ');
  return [
    `  ${String(line)} │ ${lineText}`,
    `  ${' '.repeat(gutter)} │ ${caretIndent}${'^'.repeat(Math.max(1, Math.min(length, lineText.length - column + 1)))}`,
  ].join('\n');
}

/**
 * For an error thrown at run time: the first stack frame inside the project (not node_modules),
 * as `file:line:column` relative to `root` and a code frame read from the file. Stacks are
 * already source-mapped, so this points into the .ts source.
 */
export function frameFromStack(stack: string | undefined, root: string): string | undefined {
  if (stack === undefined) return undefined;
  for (const match of stack.matchAll(/(?:\(|at )(?:file:\/\/)?(\/[^():\n]+):(\d+):(\d+)\)?$/gm)) {
    const [, file, lineText, columnText] = match;
    if (!isInside(root, file!) || file!.includes('/node_modules/') || file!.includes('/.fngate/')) continue;
    const line = Number(lineText);
    const column = Number(columnText);
    let source: string | undefined;
    try {
      source = readFileSync(file!, 'utf8').split('\n')[line - 1];
    } catch {
      source = undefined;
    }
    const where = `${relative(root, file!)}:${line}:${column}`;
    return source === undefined ? where : `${where}\n${codeFrame(source, line, column)}`;
  }
  return undefined;
}
