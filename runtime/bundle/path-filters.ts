/**
 * esbuild plugin filters are Go regexps (RE2: no lookahead), and every path a filter matches
 * costs a round trip from esbuild's process into the gateway's JavaScript, per file and per
 * build. These spell out "anything but" without lookahead, so a plugin is called only for the
 * files it has something to do with.
 */

/** A regexp for one path segment that is anything but `name`. */
export function segmentOtherThan(name: string): string {
  const alternatives: string[] = [];
  for (let i = 0; i < name.length; i++) {
    const prefix = escapeRegExp(name.slice(0, i));
    // Differs from `name` at position i...
    alternatives.push(`${prefix}[^${escapeRegExp(name[i]!)}/][^/]*`);
    // ...or is a shorter prefix of it.
    if (i > 0) alternatives.push(prefix);
  }
  alternatives.push(`${escapeRegExp(name)}[^/]+`); // or is longer
  return `(?:${alternatives.join('|')})`;
}

interface TrieNode {
  readonly next: Map<string, TrieNode>;
  /** A prefix ends here. */
  end: boolean;
}

/**
 * Longest prefix spelled out: each character nests a group, and Go's regexp refuses nesting
 * deeper than 1000 (a 500-character project path made every build fail). Beyond it, or beyond
 * MAX_PATTERN, the filter matches everything: slower, never wrong.
 */
const MAX_PREFIX = 400;
const MAX_PATTERN = 16_384;

/**
 * A regexp matching every path that starts with none of `prefixes` (and, when a prefix is too
 * long to spell out, every path): at each character the path ends, or goes on with a
 * character no prefix has there, or with one some prefix has and then leaves it.
 */
export function notUnder(prefixes: readonly string[]): RegExp {
  const root: TrieNode = { next: new Map(), end: false };
  if (prefixes.some((prefix) => [...prefix].length > MAX_PREFIX)) return /.*/;
  for (const prefix of prefixes) {
    if (prefix === '') return /^$/; // everything is under it
    let node = root;
    for (const char of prefix) {
      let child = node.next.get(char);
      if (child === undefined) node.next.set(char, (child = { next: new Map(), end: false }));
      node = child;
    }
    node.end = true;
  }
  const pattern = (node: TrieNode): string => {
    const chars = [...node.next.keys()];
    const alternatives = ['$', `[^${chars.map(escapeRegExp).join('')}]`];
    for (const [char, child] of node.next) if (!child.end) alternatives.push(`${escapeRegExp(char)}${pattern(child)}`);
    return `(?:${alternatives.join('|')})`;
  };
  const source = `^${pattern(root)}`;
  return source.length > MAX_PATTERN ? /.*/ : new RegExp(source);
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
