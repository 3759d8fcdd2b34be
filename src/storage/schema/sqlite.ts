import { sql } from "drizzle-orm";
import { index, integer, type SQLiteTable, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { ColumnDef, TableDef } from "./define.ts";
import * as tables from "./tables.ts";
import * as interactionTables from "./tables-interactions.ts";
import * as operationTables from "./tables-operations.ts";
import * as publishingTables from "./tables-publishing.ts";
import * as readerTables from "./tables-readers.ts";
import * as staffTables from "./tables-staff.ts";

/*
 * The tables (tables.ts, tables-staff.ts) as SQLite's Drizzle schema, which
 * drizzle-kit writes drizzle/sqlite's migrations from: every whole number an
 * integer, booleans 0/1, ids counted by AUTOINCREMENT.
 */

/** The part of Drizzle's column builders used here (their own types are one per column type). */
interface Builder {
  primaryKey(options?: { autoIncrement: boolean }): Builder;
  notNull(): Builder;
  default(value: unknown): Builder;
}

function column(c: ColumnDef): Builder {
  let b = (c.kind === "text"
    ? text(c.name)
    : c.kind === "bool"
      ? integer(c.name, { mode: "boolean" })
      : integer(c.name)) as unknown as Builder;
  if (c.kind === "serial") b = b.primaryKey({ autoIncrement: true });
  else if (c.isPrimaryKey) b = b.primaryKey();
  if (c.isNotNull) b = b.notNull();
  if (c.defaultValue !== undefined)
    b = b.default(typeof c.defaultValue === "object" ? sql.raw(c.defaultValue.sql) : c.defaultValue);
  return b;
}

function build(def: TableDef): SQLiteTable {
  const columns = Object.fromEntries(Object.entries(def.columns).map(([f, c]) => [f, column(c as ColumnDef)]));
  return sqliteTable(def.name, columns as unknown as Record<string, ReturnType<typeof text>>, (t) =>
    def.indexes.map((i) => {
      const [first, ...rest] = i.fields.map((f) => t[f]);
      const on = (i.unique ? uniqueIndex : index)(i.name).on(first, ...rest);
      return i.nullField === undefined ? on : on.where(sql`${t[i.nullField]} IS NULL`);
    }),
  );
}

export const actorKeys = build(tables.actorKeys);
export const instance = build(tables.instance);
export const followers = build(tables.followers);
export const blocks = build(tables.blocks);
export const quoteStamps = build(tables.quoteStamps);
export const posts = build(tables.posts);
export const postVersions = build(tables.postVersions);
export const kv = build(tables.kv);
export const queue = build(tables.queue);
export const scheduledPosts = build(publishingTables.scheduledPosts);
export const editDrafts = build(publishingTables.editDrafts);
export const sessions = build(tables.sessions);
export const profile = build(tables.profile);
export const media = build(tables.media);
export const outgoing = build(tables.outgoing);
export const deliveries = build(tables.deliveries);
export const deliveryTargets = build(tables.deliveryTargets);
export const servers = build(tables.servers);
export const leases = build(tables.leases);
export const purges = build(tables.purges);
export const following = build(tables.following);
export const staff = build(staffTables.staff);
export const passkeys = build(staffTables.passkeys);
export const recoveryCodes = build(staffTables.recoveryCodes);
export const auditLog = build(staffTables.auditLog);
export const drafts = build(staffTables.drafts);
export const oauthApps = build(staffTables.oauthApps);
export const oauthTokens = build(staffTables.oauthTokens);
export const signInThrottle = build(staffTables.signInThrottle);
export const emailSubscribers = build(readerTables.emailSubscribers);
export const pushSubscriptions = build(readerTables.pushSubscriptions);
export const readerFanouts = build(readerTables.readerFanouts);
export const readerKeys = build(readerTables.readerKeys);
export const authorizations = build(interactionTables.authorizations);
export const relays = build(interactionTables.relays);
export const serverSamples = build(operationTables.serverSamples);
