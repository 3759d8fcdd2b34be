-- Which delivery partition a server's host falls in (see src/delivery/partitions.ts); SQLite registers its own.
CREATE OR REPLACE FUNCTION lectern_partition(host text, n integer) RETURNS integer
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT (((hashtext(host)::bigint % n) + n) % n)::integer $$;
