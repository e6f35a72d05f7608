/**
 * The shapes of regular expression that make a backtracking engine take exponential (or high polynomial) time on
 * text that almost matches, found in a user's scrub pattern before it joins the combined expression:
 *
 * - `nested repeats`: a group that may be taken more than once holding an unbounded repeat whose end is not
 *   settled by what follows it (`(\w+\s?)+`, `(?:(a+)b?)*`, `(\w+\s?){1,10}$`, `(?:\d+[ -]?){4}`). A repeat whose
 *   count may vary by more than `MAX_BOUNDED_REPEAT` counts as unbounded. A repeat of one character class followed
 *   by a required character it cannot match is settled (`(?:\d+\.){3}\d+`, `(?:[\w-]+\.)+`): it ends where that
 *   character is, so the turns of the group cannot share text out in more than one way.
 * - `overlapping alternatives`: a group repeated without bound whose turns can match the same text in more than one
 *   way: alternatives able to start alike (`(a|aa)+`, `(?:\w|\d)*`), or one alternative of varying length
 *   (`(?:\d\d?)+`, `(\d{1,3},?)+`, `(?:(a|ab)b?)+`). The group's body is spelt out into every sequence of
 *   one-character items it can take (optional items with and without, small counts each, inner groups' alternatives)
 *   and the sequences are read side by side.
 *
 * A guard against the common mistakes, not a proof: what it cannot spell out (`.`, an inner unbounded repeat, a
 * case-insensitive group, more than `MAX_SEQUENCES` sequences) counts as overlapping, so it also refuses some
 * harmless patterns (`(x(a|aa))+`), which a class or a common prefix rewrites; characters are compared on ASCII,
 * a few others and the characters the items name.
 *
 *     backtrackingShape('(?:x(?:y+))+')   // 'nested repeats'
 *     backtrackingShape('(?:-?\\d)+')     // undefined: a turn starts with '-' or a digit, never both
 *     backtrackingShape('(?:\\d+\\.){3}') // undefined: each \d+ ends at its dot
 */
export function backtrackingShape(
  pattern: string,
): 'nested repeats' | 'overlapping alternatives' | 'too deep' | undefined {
  let tree: Alternatives;
  try {
    tree = new Parser(pattern).alternatives(0);
  } catch (error) {
    if (error === TOO_DEEP) return 'too deep';
    throw error;
  }
  const groups: Group[] = [];
  collectGroups(tree, groups);
  for (const group of groups) {
    if (group.max >= 2 && holdsUnsettledRepeat(group.alternatives)) return 'nested repeats';
  }
  for (const group of groups) {
    if (!isUnbounded(group)) continue;
    const turns = group.opaque ? UNREAD : spellAlternatives(group.alternatives);
    // Not spelt out (too many sequences, or opaque): as good as overlapping.
    if (turns === UNREAD || turnsOverlap(turns)) return 'overlapping alternatives';
  }
  return undefined;
}

/** Repeats whose count may vary by more than this are as good as unbounded for backtracking. */
const MAX_BOUNDED_REPEAT = 10;
/** Counts up to this are spelt out one by one (`\d{1,3}`: three sequences); larger ones are not read. */
const MAX_SPELT_COUNT = 4;
/** Past this many sequences a group's body is not read, and counts as overlapping. */
const MAX_SEQUENCES = 64;
/** Groups nested deeper than this are refused rather than read. */
const MAX_DEPTH = 64;

/** One character's expression (`a`, `\d`, `[a-f]`); `null` for an item not read here. */
type Character = string | null;
interface Quantified {
  min: number;
  max: number;
}
interface CharacterItem extends Quantified {
  kind: 'character';
  source: Character;
}
interface Group extends Quantified {
  kind: 'group';
  alternatives: Alternatives;
  /** A lookaround or case-insensitive group: its items are not read. */
  opaque: boolean;
}
type Item = CharacterItem | Group;
type Alternatives = Item[][];

const TOO_DEEP = Symbol('too deep');

class Parser {
  private i = 0;
  private readonly pattern: string;
  constructor(pattern: string) {
    this.pattern = pattern;
  }

  alternatives(depth: number): Alternatives {
    if (depth > MAX_DEPTH) throw TOO_DEEP;
    const alternatives: Alternatives = [[]];
    while (this.i < this.pattern.length) {
      const c = this.pattern[this.i] as string;
      if (c === ')') break;
      if (c === '|') {
        this.i++;
        alternatives.push([]);
        continue;
      }
      const item = this.item(depth);
      this.quantifier(item);
      alternatives[alternatives.length - 1]?.push(item);
    }
    return alternatives;
  }

  private item(depth: number): Item {
    const { pattern } = this;
    const c = pattern[this.i] as string;
    if (c === '(') {
      const prefix = /^\((\?(?:[:=!]|<[=!]|<[^>]*>|[a-zA-Z-]+:))?/.exec(pattern.slice(this.i))?.[1] ?? '';
      this.i += 1 + prefix.length;
      const alternatives = this.alternatives(depth + 1);
      this.i++; // the `)`
      const opaque = /^\?(?:[=!]|<[=!]|[a-zA-Z-]*i)/.test(prefix);
      return { kind: 'group', alternatives, opaque, min: 1, max: 1 };
    }
    if (c === '[') {
      const source = /^\[(?:\\.|[^\]\\])*\]/.exec(pattern.slice(this.i))?.[0] ?? pattern.slice(this.i);
      this.i += source.length;
      return { kind: 'character', source, min: 1, max: 1 };
    }
    if (c === '\\') {
      const escaped = /^\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[\s\S])?/.exec(pattern.slice(this.i))?.[0] as string;
      this.i += escaped.length;
      return { kind: 'character', source: escapeSource(escaped), min: 1, max: 1 };
    }
    this.i++;
    // A literal as its \uXXXX escape: a one-character expression whatever the character, which `named` decodes.
    const source = '.^$'.includes(c) ? null : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    return { kind: 'character', source, min: 1, max: 1 };
  }

  private quantifier(item: Item): void {
    const match = /^(?:([*+?])|\{(\d+)(?:(,)(\d*))?\})\??/.exec(this.pattern.slice(this.i));
    if (!match) return;
    this.i += match[0].length;
    const [, sign, least, comma, most] = match;
    if (sign) {
      item.min = sign === '+' ? 1 : 0;
      item.max = sign === '?' ? 1 : Number.POSITIVE_INFINITY;
    } else {
      item.min = Number(least);
      item.max = !comma ? item.min : most === '' ? Number.POSITIVE_INFINITY : Number(most);
    }
  }
}

/** What an escape matches as one character's expression; `null` for one that is not a character (`\b`, `\1`). */
function escapeSource(escaped: string): Character {
  const rest = escaped.slice(1);
  if (/^[dDwWsStnrfv]$/.test(rest) || /^[^\w]$/.test(rest) || /^[xu]/.test(rest)) return escaped;
  return null;
}

/** Every group at any depth; inside an opaque one (case-insensitive), each is opaque too. */
function collectGroups(alternatives: Alternatives, into: Group[], opaque = false): void {
  for (const item of alternatives.flat()) {
    if (item.kind === 'group') {
      item.opaque ||= opaque;
      into.push(item);
      collectGroups(item.alternatives, into, item.opaque);
    }
  }
}

const isUnbounded = (item: Quantified) => item.max - item.min > MAX_BOUNDED_REPEAT;

/**
 * Whether some alternative holds an unbounded repeat that what follows it does not settle, at any depth: only a
 * repeat of one character's expression followed by a required one that no character of it matches is settled.
 */
function holdsUnsettledRepeat(alternatives: Alternatives, opaque = false): boolean {
  return alternatives.some((items) =>
    items.some((item, k) => {
      if (item.kind === 'group' && holdsUnsettledRepeat(item.alternatives, opaque || item.opaque)) return true;
      if (!isUnbounded(item)) return false;
      const next = items[k + 1];
      // Inside a case-insensitive group, characters are not compared: no repeat there counts as settled.
      const settled =
        !opaque &&
        item.kind === 'character' &&
        item.source !== null &&
        next?.kind === 'character' &&
        next.source !== null &&
        next.min >= 1 &&
        !overlap(item.source, next.source);
      return !settled;
    }),
  );
}

/** The sequences of one-character items alternatives can take; a sequence ends with `null` where reading stopped. */
type Sequence = Character[];
const UNREAD: Sequence[] = [[null]];

function spellAlternatives(alternatives: Alternatives): Sequence[] {
  const sequences: Sequence[] = [];
  for (const items of alternatives) {
    sequences.push(...spellItems(items));
    if (sequences.length > MAX_SEQUENCES) return UNREAD;
  }
  return sequences;
}

function spellItems(items: readonly Item[]): Sequence[] {
  let sequences: Sequence[] = [[]];
  for (const item of items) {
    sequences = concat(sequences, spellItem(item));
    if (sequences.length > MAX_SEQUENCES) return UNREAD;
  }
  return sequences;
}

function spellItem(item: Item): Sequence[] {
  const once: Sequence[] =
    item.kind === 'character' ? [[item.source]] : item.opaque ? UNREAD : spellAlternatives(item.alternatives);
  if (item.max === 1 && item.min === 1) return once;
  if (item.max > MAX_SPELT_COUNT) {
    // Past what is spelt out: the required turns, then an unknown rest.
    let sequences: Sequence[] = [[]];
    for (let k = 0; k < Math.min(item.min, MAX_SPELT_COUNT); k++) sequences = concat(sequences, once);
    return concat(sequences, UNREAD);
  }
  const sequences: Sequence[] = [];
  let taken: Sequence[] = [[]];
  for (let count = 0; count <= item.max; count++) {
    if (count >= item.min) sequences.push(...taken);
    taken = concat(taken, once);
    if (sequences.length > MAX_SEQUENCES) return UNREAD;
  }
  return sequences;
}

/** Each of `heads` followed by each of `tails`; a head that ended unread stays as it is. */
function concat(heads: readonly Sequence[], tails: readonly Sequence[]): Sequence[] {
  const out: Sequence[] = [];
  for (const head of heads) {
    if (head.at(-1) === null) out.push(head);
    else for (const tail of tails) out.push([...head, ...tail]);
    if (out.length > MAX_SEQUENCES) return UNREAD;
  }
  return out;
}

/** Whether two of the sequences a turn can take start alike: then one text splits into turns in several ways. */
function turnsOverlap(sequences: readonly Sequence[]): boolean {
  return sequences.some((a, i) => sequences.slice(i + 1).some((b) => startAlike(a, b)));
}

/**
 * Whether two sequences can match the same text or one a beginning of the other's: read side by side, item by item,
 * until two items that no character matches both tell them apart (`bar` and `baz` at their third). An empty one
 * (an optional body taken zero times) is no turn.
 */
function startAlike(a: Sequence, b: Sequence): boolean {
  if (a.length === 0 || b.length === 0) return false;
  for (let k = 0; k < a.length && k < b.length; k++) {
    const [x, y] = [a[k], b[k]];
    if (x == null || y == null) return true;
    if (!overlap(x, y)) return false;
  }
  return true; // one is a beginning of the other (`a` and `aa`), or they are the same
}

/** Every ASCII character and a few beyond it: what two items are tried on, with the characters they name. */
const PROBES = [...Array.from({ length: 128 }, (_, code) => String.fromCharCode(code)), ...'\u00a0é中\u2028'];
const compiled = new Map<string, RegExp | null>();

/** Whether some character matches both one-character expressions. */
function overlap(a: string, b: string): boolean {
  if (a === b) return true;
  const [first, second] = [oneCharacter(a), oneCharacter(b)];
  if (!first || !second) return true;
  return [...PROBES, ...named(a), ...named(b)].some((char) => first.test(char) && second.test(char));
}

/** The characters an expression names, its `\xHH` and `\uHHHH` escapes decoded (`[\u0400-\u04ff]`'s ends). */
function named(source: string): string[] {
  const decoded = source.replace(/\\x([0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})/g, (_, x: string, u: string) =>
    String.fromCharCode(Number.parseInt(x ?? u, 16)),
  );
  return [...decoded];
}

/** `null` for an item that is no expression alone (the pattern is then refused for being invalid anyway). */
function oneCharacter(item: string): RegExp | null {
  let regex = compiled.get(item);
  if (regex === undefined) {
    try {
      regex = new RegExp(`^(?:${item})$`);
    } catch {
      regex = null;
    }
    compiled.set(item, regex);
  }
  return regex;
}
