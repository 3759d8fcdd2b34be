/**
 * SQL written once for SQLite and PostgreSQL: a tagged template that keeps
 * values apart from the text, rendered with `?` or `$n` placeholders by the
 * database that runs it. Identifiers and keywords are the template's text;
 * every `${value}` is a bound parameter (never spliced), so a query is safe by
 * construction. A nested `sql` fragment, `sql.raw` and `sql.join` compose.
 */
export class Sql {
  readonly strings: readonly string[];
  readonly values: readonly unknown[];
  constructor(strings: readonly string[], values: readonly unknown[]) {
    this.strings = strings;
    this.values = values;
  }

  /** The text with placeholders made by `placeholder(n)` (1-based), and the flat list of values. */
  render(placeholder: (n: number) => string): { text: string; params: unknown[] } {
    const params: unknown[] = [];
    let text = "";
    const walk = (q: Sql) => {
      q.strings.forEach((s, i) => {
        text += s;
        if (i >= q.values.length) return;
        const v = q.values[i];
        if (v instanceof Sql) walk(v);
        else {
          params.push(v);
          text += placeholder(params.length);
        }
      });
    };
    walk(this);
    return { text, params };
  }
}

type SqlTag = {
  (strings: TemplateStringsArray, ...values: unknown[]): Sql;
  /** Text put in as it is: only for identifiers and keywords chosen by the program, never input. */
  raw(text: string): Sql;
  /** Fragments or values joined by `separator` (values become parameters). */
  join(items: readonly unknown[], separator?: string): Sql;
  /** An empty fragment. */
  empty: Sql;
};

export const sql: SqlTag = Object.assign(
  (strings: TemplateStringsArray, ...values: unknown[]) => new Sql([...strings], values),
  {
    raw: (text: string) => new Sql([text], []),
    join: (items: readonly unknown[], separator = ", ") => {
      if (items.length === 0) return new Sql([""], []);
      const strings = ["", ...items.slice(1).map(() => separator), ""];
      return new Sql(strings, [...items]);
    },
    empty: new Sql([""], []),
  },
);
