/**
 * The shapes of regular expression that make a backtracking engine take exponential time on text that almost
 * matches, found in a user's scrub pattern before it joins the combined expression:
 *
 * - `nested repeats`: a group repeated without bound that itself holds an unbounded repeat, at any depth
 *   (`(\w+\s?)+`, `(?:(a+)b?)*`). A repeat whose count may vary by more than `MAX_BOUNDED_REPEAT` counts as
 *   unbounded: `(\w+\s?){1,100}$` took 770 ms on 27 characters.
 * - `overlapping alternatives`: a group repeated without bound that holds alternatives able to start with the same
 *   character (`(a|aa)+`, `(?:\w|\d)*`, `(?:(a|ab)b?)+`), so that one text splits into turns in many ways.
 *
 * A guard against the common mistakes, not a proof: it reads alternatives side by side only while each item
 * matches one character, and takes what it cannot read (a group, `.`, a quantified item) as overlapping, so it
 * also refuses some harmless patterns (`(\d{2}|x)+`, which `(\d\d|x)+` writes without the quantifier).
 *
 *     backtrackingShape('(?:x(?:y+))+')   // 'nested repeats'
 *     backtrackingShape('(?:-|\\d)+')     // undefined: a digit never starts with '-'
 *     backtrackingShape('(?:\\d+\\.){3}') // undefined: the outer repeat is bounded, and low
 */
export function backtrackingShape(pattern: string): 'nested repeats' | 'overlapping alternatives' | undefined {
  /** For each group open at this point: where its body starts, and what it holds so far. */
  const open: { start: number; repeats: boolean; overlaps: boolean }[] = [];
  let inClass = false;
  /** What the group read just before holds; `undefined` when the last item read was not a group. */
  let lastGroup: { repeats: boolean; overlaps: boolean } | undefined;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    let closed: typeof lastGroup;
    if (c === '\\') {
      i++; // the escaped character is a literal (or a class such as \d): a quantifier after it is its own
    } else if (inClass) {
      inClass = c !== ']';
    } else if (c === '[') {
      inClass = true;
    } else if (c === '(') {
      open.push({ start: i + groupPrefixLength(pattern.slice(i + 1)) + 1, repeats: false, overlaps: false });
    } else if (c === ')') {
      const group = open.pop();
      if (group) {
        closed = {
          repeats: group.repeats,
          overlaps: group.overlaps || alternativesOverlap(topLevelAlternatives(pattern.slice(group.start, i))),
        };
        // What a group holds, its enclosing group holds too.
        const parent = open.at(-1);
        if (parent) {
          parent.repeats ||= closed.repeats;
          parent.overlaps ||= closed.overlaps;
        }
      }
    } else if (c === '+' || c === '*' || (c === '{' && isLargeRepeat(pattern.slice(i)))) {
      if (lastGroup?.repeats) return 'nested repeats';
      if (lastGroup?.overlaps) return 'overlapping alternatives';
      const parent = open.at(-1);
      if (parent) parent.repeats = true;
    }
    lastGroup = closed;
  }
  return undefined;
}

/**
 * Repeats whose count may vary by more than this are as good as unbounded for backtracking (each extra choice
 * multiplies the ways to match); a fixed count (`{4}`) or a narrow range (`{13,16}`) adds no choice worth counting.
 */
const MAX_BOUNDED_REPEAT = 10;

/** Whether the quantifier at the start of `rest` (`{n,}`, `{n,m}`) lets the count vary by more than `MAX_BOUNDED_REPEAT`. */
function isLargeRepeat(rest: string): boolean {
  const quantifier = /^\{(\d+),(\d*)\}/.exec(rest);
  if (!quantifier) return false;
  const [, least, most] = quantifier;
  return most === '' || Number(most) - Number(least) > MAX_BOUNDED_REPEAT;
}

/** The length of what follows `(` before the group's body: `?:`, `?=`, `?!`, `?<=`, `?<!`, `?<name>`. */
function groupPrefixLength(rest: string): number {
  return /^\?(?:[:=!]|<[=!]|<[^>]*>)/.exec(rest)?.[0].length ?? 0;
}

/** A group's body split at its own `|`, not at those of inner groups, classes or escapes. */
function topLevelAlternatives(body: string): string[] {
  const alternatives: string[] = [];
  let depth = 0;
  let inClass = false;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      alternatives.push(body.slice(start, i));
      start = i + 1;
    }
  }
  alternatives.push(body.slice(start));
  return alternatives;
}

function alternativesOverlap(alternatives: readonly string[]): boolean {
  const read = alternatives.map(leadingItems);
  return read.some((items, i) => read.slice(i + 1).some((other) => startAlike(items, other)));
}

/**
 * Whether two alternatives can match the same text or one a beginning of the other's: read side by side, item by
 * item, until two items that no character matches both tell them apart (`bar` and `baz` at their third).
 */
function startAlike(a: readonly (string | null)[], b: readonly (string | null)[]): boolean {
  if (a.length === 0 || b.length === 0) return false;
  for (let k = 0; k < a.length && k < b.length; k++) {
    const [x, y] = [a[k], b[k]];
    if (x == null || y == null) return true;
    if (!overlap(x, y)) return false;
  }
  return true; // one is a beginning of the other (`a` and `aa`), or they are the same
}

/**
 * An alternative's leading items that each match one character, as sources of one-character expressions (`a`,
 * `\d`, `[a-f]`), then `null` for the first item not read here (a group, `.`, an anchor, an item with a
 * quantifier, which may be skipped or repeated); empty for an empty alternative.
 */
function leadingItems(alternative: string): (string | null)[] {
  const items: (string | null)[] = [];
  let rest = alternative;
  while (rest !== '') {
    const item = /^(?:\\[dDwWsStnrfv]|\\[^\w]|\[(?:\\.|[^\]\\])*\]|[^\\[(.^$|?*+{])/.exec(rest)?.[0];
    if (item === undefined || /^[?*+{]/.test(rest.slice(item.length))) {
      items.push(null);
      break;
    }
    items.push(item);
    rest = rest.slice(item.length);
  }
  return items;
}

/** Every ASCII character and a few beyond it: what two items are tried on. */
const PROBES = [...Array.from({ length: 128 }, (_, code) => String.fromCharCode(code)), ...'\u00a0é中\u2028'];

/** Whether some character matches both one-character expressions. */
function overlap(a: string, b: string): boolean {
  const [first, second] = [oneCharacter(a), oneCharacter(b)];
  if (!first || !second) return true;
  // The items' own characters too, so that two classes of the same letter beyond ASCII (`[é]`, `[éa]`) are seen.
  return [...PROBES, ...a, ...b].some((char) => first.test(char) && second.test(char));
}

/** `null` for an item that is no expression alone (the pattern is then refused for being invalid anyway). */
function oneCharacter(item: string): RegExp | null {
  try {
    return new RegExp(`^(?:${item})$`);
  } catch {
    return null;
  }
}
