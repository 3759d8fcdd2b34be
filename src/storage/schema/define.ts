/*
 * A table, defined once for both databases: its columns by kind (what each
 * dialect makes of a kind is in sqlite.ts and postgres.ts) and its indexes.
 * The Drizzle schemas drizzle-kit writes migrations from are built from these
 * definitions, so the two databases cannot drift apart.
 */

/**
 * `text`; `number`: a whole number that may pass 2^31 (milliseconds, counts:
 * SQLite integer, PostgreSQL bigint); `int32` (PostgreSQL integer); `bool`;
 * `serial`: an id counted up by the database, the primary key.
 */
export type ColumnKind = "text" | "number" | "int32" | "bool" | "serial";

export class ColumnDef {
  readonly kind: ColumnKind;
  readonly name: string;
  isNotNull = false;
  isPrimaryKey = false;
  /** A literal default, or `{ sql }` for an SQL expression written as it is. */
  defaultValue: string | number | boolean | { sql: string } | undefined;
  constructor(kind: ColumnKind, name: string) {
    this.kind = kind;
    this.name = name;
    if (kind === "serial") this.isPrimaryKey = true;
  }
  notNull(): this {
    this.isNotNull = true;
    return this;
  }
  primaryKey(): this {
    this.isPrimaryKey = true;
    return this;
  }
  default(value: string | number | boolean): this {
    this.defaultValue = value;
    return this;
  }
  defaultSql(expression: string): this {
    this.defaultValue = { sql: expression };
    return this;
  }
}

export const text = (name: string) => new ColumnDef("text", name);
export const number = (name: string) => new ColumnDef("number", name);
export const int32 = (name: string) => new ColumnDef("int32", name);
export const bool = (name: string) => new ColumnDef("bool", name);
export const serial = (name: string) => new ColumnDef("serial", name);

export class IndexDef {
  readonly name: string;
  readonly unique: boolean;
  fields: string[] = [];
  /** A partial index: only rows where this field is null. */
  nullField: string | undefined;
  constructor(name: string, unique: boolean) {
    this.name = name;
    this.unique = unique;
  }
  on(...fields: string[]): this {
    this.fields = fields;
    return this;
  }
  whereNull(field: string): this {
    this.nullField = field;
    return this;
  }
}

export const index = (name: string) => new IndexDef(name, false);
export const uniqueIndex = (name: string) => new IndexDef(name, true);

export interface TableDef<F extends string = string> {
  readonly name: string;
  readonly columns: Record<F, ColumnDef>;
  readonly indexes: IndexDef[];
}

/** A table: its columns by field name, and its indexes over those fields (`t.field` names one). */
export function table<F extends string>(
  name: string,
  columns: Record<F, ColumnDef>,
  indexes: (t: Record<F, F>) => IndexDef[] = () => [],
): TableDef<F> {
  const fields = Object.fromEntries(Object.keys(columns).map((f) => [f, f])) as Record<F, F>;
  return { name, columns, indexes: indexes(fields) };
}
