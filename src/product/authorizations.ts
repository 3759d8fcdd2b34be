import { uuidv7 } from "../shared/ids.ts";
import type { Queryable } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";

/** What an authorization allows: a boost, a like, or featuring the account in a collection. */
export type AuthorizationKind = "announce" | "like" | "feature";

/** An interaction the channel granted (GoToSocial's and Mastodon's authorizations), as stored. */
export interface Authorization {
  id: string;
  kind: AuthorizationKind;
  /** The post it is about; null when it is about the account (featuring). */
  postId: string | null;
  interactingIri: string;
  actorIri: string;
  inbox: string;
  createdAt: number;
  revokedAt: number | null;
}

const COLUMNS = sql.raw(
  `id, kind, post_id AS "postId", interacting_iri AS "interactingIri", actor_iri AS "actorIri", inbox,
   created_at AS "createdAt", revoked_at AS "revokedAt"`,
);

/**
 * Records a granted request; the same interaction asking again gets the same
 * authorization (no new row), unless it was revoked: then nothing (null).
 */
export async function grantAuthorization(
  db: Queryable,
  a: { kind: AuthorizationKind; postId: string | null; interactingIri: string; actorIri: string; inbox: string },
  now: number = Date.now(),
): Promise<Authorization | null> {
  await db.run(
    sql`INSERT INTO authorizations (id, kind, post_id, interacting_iri, actor_iri, inbox, created_at)
        VALUES (${uuidv7(now)}, ${a.kind}, ${a.postId}, ${a.interactingIri}, ${a.actorIri}, ${a.inbox}, ${now})
        ON CONFLICT DO NOTHING`,
  );
  const row = await db.get<Authorization>(
    sql`SELECT ${COLUMNS} FROM authorizations WHERE kind = ${a.kind} AND interacting_iri = ${a.interactingIri}`,
  );
  // Another account's interaction by the same id, or one revoked: no authorization for this asker.
  if (row === undefined || row.actorIri !== a.actorIri || row.revokedAt !== null) return null;
  return row;
}

export async function getAuthorization(db: Queryable, id: string): Promise<Authorization | undefined> {
  return await db.get<Authorization>(sql`SELECT ${COLUMNS} FROM authorizations WHERE id = ${id}`);
}

/** Revokes the live authorizations of a post (deleted), returning them to tell their holders. */
export async function revokePostAuthorizations(db: Queryable, postId: string, now: number): Promise<Authorization[]> {
  return await db.all<Authorization>(
    sql`UPDATE authorizations SET revoked_at = ${now}
        WHERE post_id = ${postId} AND revoked_at IS NULL RETURNING ${COLUMNS}`,
  );
}

/** Revokes every live authorization of a kind (its rule changed), returning them. */
export async function revokeAuthorizations(
  db: Queryable,
  kind: AuthorizationKind,
  now: number,
  only?: (a: Authorization) => boolean,
): Promise<Authorization[]> {
  const live = await db.all<Authorization>(
    sql`SELECT ${COLUMNS} FROM authorizations WHERE kind = ${kind} AND revoked_at IS NULL`,
  );
  const revoked: Authorization[] = [];
  for (const a of live) {
    if (only !== undefined && !only(a)) continue;
    // Two workers starting at once: each revocation is told once, by the one that made it.
    if (
      (await db.run(sql`UPDATE authorizations SET revoked_at = ${now} WHERE id = ${a.id} AND revoked_at IS NULL`)) === 1
    )
      revoked.push({ ...a, revokedAt: now });
  }
  return revoked;
}
