/**
 * A unified diff of two texts (`-`/`+` lines with `context` unchanged lines around each change,
 * under `@@ -a,b +c,d @@` headers), for showing what a command changed in a small file such as
 * config.yaml. Only the part between the common first and last lines is compared line by line
 * (a longest common subsequence), so a few edits in a long file stay cheap.
 */
export function lineDiff(before: string, after: string, name: string, context = 2): string {
  const a = splitLines(before);
  const b = splitLines(after);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  if (head === a.length && head === b.length) return '';

  // Each line of both texts, in order: kept (' '), removed ('-') or added ('+'), with its numbers.
  const lines: { mark: ' ' | '-' | '+'; text: string; a: number; b: number }[] = [];
  for (let i = 0; i < head; i++) lines.push({ mark: ' ', text: a[i]!, a: i, b: i });
  const middleA = a.slice(head, a.length - tail);
  const middleB = b.slice(head, b.length - tail);
  const lcs = commonLengths(middleA, middleB);
  let i = 0;
  let j = 0;
  while (i < middleA.length || j < middleB.length) {
    if (i < middleA.length && j < middleB.length && middleA[i] === middleB[j]) {
      lines.push({ mark: ' ', text: middleA[i]!, a: head + i++, b: head + j++ });
    } else if (i < middleA.length && (j === middleB.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      // A replaced line shows as removed, then added.
      lines.push({ mark: '-', text: middleA[i]!, a: head + i++, b: head + j });
    } else {
      lines.push({ mark: '+', text: middleB[j]!, a: head + i, b: head + j++ });
    }
  }
  for (let k = 0; k < tail; k++) lines.push({ mark: ' ', text: a[a.length - tail + k]!, a: a.length - tail + k, b: b.length - tail + k });

  // Hunks: changed lines with their context, overlapping ones merged.
  const out = [`--- ${name}`, `+++ ${name}`];
  let index = 0;
  while (index < lines.length) {
    const first = lines.findIndex((line, k) => k >= index && line.mark !== ' ');
    if (first === -1) break;
    let last = first;
    for (let k = first + 1; k < lines.length && k <= last + 2 * context; k++) if (lines[k]!.mark !== ' ') last = k;
    const from = Math.max(index, first - context);
    const to = Math.min(lines.length - 1, last + context);
    const hunk = lines.slice(from, to + 1);
    const countA = hunk.filter((line) => line.mark !== '+').length;
    const countB = hunk.filter((line) => line.mark !== '-').length;
    out.push(`@@ -${hunk[0]!.a + 1},${countA} +${hunk[0]!.b + 1},${countB} @@`);
    for (const line of hunk) out.push(`${line.mark}${line.text}`);
    index = to + 1;
  }
  return `${out.join('\n')}\n`;
}

/** Lines without their line breaks (a final newline makes no empty last line). */
function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** lengths[i][j]: the longest common subsequence of a[i..] and b[j..]. */
function commonLengths(a: readonly string[], b: readonly string[]): number[][] {
  const lengths = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lengths[i]![j] = a[i] === b[j] ? lengths[i + 1]![j + 1]! + 1 : Math.max(lengths[i + 1]![j]!, lengths[i]![j + 1]!);
    }
  }
  return lengths;
}
