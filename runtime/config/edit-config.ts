import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar, parseDocument, stringify, type Pair } from 'yaml';

type Range = [number, number, number];

/**
 * config.yaml with `settings` set on function `name`, or why that cannot be done safely. Only
 * those values change, as text: a key the function has keeps its place, its line's trailing
 * comment and that comment's column; a key it lacks goes on a new line after its last key, at
 * the same indentation. Every other byte of the file stays as it was, which re-printing the
 * document would not guarantee (it re-aligns trailing comments). The Document API finds the
 * places and checks the result: it must read as the old config with exactly these values set.
 */
export function withFunctionSettings(text: string, name: string, settings: Readonly<Record<string, string | number>>): string | { error: string } {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return { error: `config.yaml does not parse: ${doc.errors[0]!.message}` };
  const entry = doc.getIn(['functions', name], true);
  const byHand = `set ${Object.entries(settings).map(([key, value]) => `${key}: ${value}`).join(', ')} under functions.${name} by hand`;
  if (!isMap(entry) || entry.flow || entry.items.length === 0) return { error: `functions.${name} is not a block mapping (one key per line); ${byHand}` };
  const items = entry.items as Pair[];

  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const edits: { at: number; end: number; text: string }[] = [];
  const added: string[] = [];
  for (const [key, value] of Object.entries(settings)) {
    const rendered = stringify(value).trimEnd();
    const pair = items.find((item) => isScalar(item.key) && item.key.value === key);
    if (pair === undefined) {
      added.push(`${key}: ${rendered}`);
      continue;
    }
    if (!isScalar(pair.value) || pair.value.range == null) return { error: `functions.${name}.${key} is not a plain value; ${byHand}` };
    const [start, end] = pair.value.range as Range;
    edits.push({ at: start, end, text: rendered });
    // Keep a trailing comment where it was: `timeout: 60s   # why` -> `timeout: 2s    # why`.
    const gap = /^[ \t]+(?=#)/.exec(text.slice(end));
    if (gap !== null) {
      const spaces = Math.max(1, gap[0].length + (end - start) - rendered.length);
      edits.push({ at: end, end: end + gap[0].length, text: ' '.repeat(spaces) });
    }
  }
  if (added.length > 0) {
    const firstKey = (items[0]!.key as { range?: Range }).range?.[0];
    const lastEnd = (items.at(-1)!.value as { range?: Range } | null)?.range?.[2];
    if (firstKey === undefined || lastEnd === undefined) return { error: `cannot find where functions.${name} ends; ${byHand}` };
    const indent = firstKey - (text.lastIndexOf('\n', firstKey - 1) + 1);
    // After the rest of the last key's last line (it may end in a comment).
    const lineEnd = text.indexOf('\n', Math.max(lastEnd - 1, 0));
    const at = lineEnd === -1 ? text.length : lineEnd + 1;
    const before = at === text.length && !text.endsWith('\n') ? eol : '';
    edits.push({ at, end: at, text: before + added.map((line) => ' '.repeat(indent) + line + eol).join('') });
  }

  let updated = text;
  for (const edit of edits.sort((a, b) => b.at - a.at)) updated = updated.slice(0, edit.at) + edit.text + updated.slice(edit.end);

  const expected = doc.toJS() as { functions: Record<string, Record<string, unknown>> };
  Object.assign(expected.functions[name]!, settings);
  const check = parseDocument(updated);
  if (check.errors.length > 0 || !isDeepStrictEqual(check.toJS(), expected)) {
    return { error: `cannot set these in config.yaml without changing anything else; ${byHand}` };
  }
  return updated;
}
