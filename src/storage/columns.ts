import { bool, json } from "./database.ts";
import { type Sql, sql } from "./sql.ts";

/** How one field is read from its column: the column's name and the decoder of its value. */
export interface Column<T> {
  column: string;
  decode(value: unknown): T;
}

const column =
  <T>(decode: (value: unknown) => T) =>
  (name: string): Column<T> => ({ column: name, decode });

/** Column types as both databases return them (PostgreSQL bigints arrive as numbers, SQLite booleans as 0/1). */
export const col = {
  text: column((v) => String(v)),
  textOrNull: column((v) => (v === null || v === undefined ? null : String(v))),
  number: column((v) => Number(v)),
  numberOrNull: column((v) => (v === null || v === undefined ? null : Number(v))),
  bool: column((v) => bool(v)),
  json: <T>(fallback: T) => column((v) => json<T>(v, fallback)),
};

/**
 * A table's fields as a domain type reads them: the SELECT list (each column
 * under its field's name) and the decoder of a row into the type, from one
 * map, so a field is added in one place.
 */
export interface Columns<T> {
  readonly select: Sql;
  decode(row: Record<string, unknown>): T;
}

export function columns<T>(spec: { [K in keyof T]: Column<T[K]> }): Columns<T> {
  const entries = Object.entries(spec) as [keyof T & string, Column<unknown>][];
  return {
    select: sql.raw(entries.map(([field, c]) => (c.column === field ? field : `${c.column} AS "${field}"`)).join(", ")),
    decode(row) {
      const out: Partial<T> = {};
      for (const [field, c] of entries) out[field] = c.decode(row[field]) as T[keyof T & string];
      return out as T;
    },
  };
}
