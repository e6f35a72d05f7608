/**
 * Whether a regular expression repeats without bound a group that itself holds an unbounded repeat, at any
 * depth (`(\w+\s?)+`, `(?:(a+)b?)*`): the shape that makes a backtracking engine take exponential time on text
 * that almost matches. A repeat whose count may vary by more than `MAX_BOUNDED_REPEAT` counts as unbounded: `(\w+\s?){1,100}$` took
 * 770 ms on 27 characters. A guard against the common mistake, not a proof: overlapping alternatives (`(a|aa)+`)
 * pass it.
 *
 *     nestsUnboundedRepeats('(?:x(?:y+))+')   // true
 *     nestsUnboundedRepeats('(?:\\d+\\.){3}')  // false: the outer repeat is bounded, and low
 */
export function nestsUnboundedRepeats(pattern: string): boolean {
  /** For each group open at this point: whether it holds an unbounded repeat so far. */
  const open: boolean[] = [];
  let inClass = false;
  /** The last item read was a group holding an unbounded repeat. */
  let afterRepeatingGroup = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    let closedRepeating = false;
    if (c === '\\') {
      i++; // the escaped character is a literal (or a class such as \d): a quantifier after it is its own
    } else if (inClass) {
      inClass = c !== ']';
    } else if (c === '[') {
      inClass = true;
    } else if (c === '(') {
      open.push(false);
    } else if (c === ')') {
      closedRepeating = open.pop() ?? false;
      // What a group holds, its enclosing group holds too.
      if (closedRepeating && open.length > 0) open[open.length - 1] = true;
    } else if (c === '+' || c === '*' || (c === '{' && isLargeRepeat(pattern.slice(i)))) {
      if (afterRepeatingGroup) return true;
      if (open.length > 0) open[open.length - 1] = true;
    }
    afterRepeatingGroup = closedRepeating;
  }
  return false;
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
