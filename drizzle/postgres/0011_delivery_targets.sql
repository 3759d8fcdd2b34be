CREATE TABLE "delivery_targets" (
	"inbox" text PRIMARY KEY NOT NULL,
	"host" text NOT NULL,
	"partition" integer NOT NULL,
	"followers" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
DROP INDEX "deliveries_partition";--> statement-breakpoint
DROP INDEX "deliveries_host";--> statement-breakpoint
DROP INDEX "deliveries_due";--> statement-breakpoint
ALTER TABLE "leases" ADD COLUMN "in_flight" integer;--> statement-breakpoint
ALTER TABLE "leases" ADD COLUMN "delivered_last_minute" integer;--> statement-breakpoint
ALTER TABLE "outgoing" ADD COLUMN "queued" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "outgoing" ADD COLUMN "queued_all" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "outgoing" ADD COLUMN "queued_after" text;--> statement-breakpoint
CREATE INDEX "delivery_targets_host" ON "delivery_targets" USING btree ("host");--> statement-breakpoint
CREATE INDEX "outgoing_queueing" ON "outgoing" USING btree ("queued_all","id");--> statement-breakpoint
CREATE INDEX "deliveries_due" ON "deliveries" USING btree ("status","next_attempt_at","id");--> statement-breakpoint
-- Hand-written: the delivery targets built from today's followers, then kept by a trigger (see tables.ts).
INSERT INTO "delivery_targets" ("inbox", "host", "partition", "followers")
  SELECT coalesce("shared_inbox", "inbox"), min("host"), lectern_partition(min("host"), 64), count(*)
  FROM "followers" WHERE "status" = 'accepted' GROUP BY coalesce("shared_inbox", "inbox");--> statement-breakpoint
CREATE OR REPLACE FUNCTION lectern_follower_targets() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_target text;
  new_target text;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    IF OLD.status = 'accepted' THEN
      old_target := coalesce(OLD.shared_inbox, OLD.inbox);
    END IF;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    IF NEW.status = 'accepted' THEN
      new_target := coalesce(NEW.shared_inbox, NEW.inbox);
    END IF;
  END IF;
  IF old_target IS NOT DISTINCT FROM new_target THEN
    RETURN NULL;
  END IF;
  -- Two targets change in inbox order, so statements moving followers both ways never deadlock.
  IF old_target IS NOT NULL AND (new_target IS NULL OR old_target < new_target) THEN
    UPDATE delivery_targets SET followers = followers - 1 WHERE inbox = old_target;
    old_target := NULL;
  END IF;
  IF new_target IS NOT NULL THEN
    INSERT INTO delivery_targets (inbox, host, partition, followers)
      VALUES (new_target, NEW.host, lectern_partition(NEW.host, 64), 1)
      ON CONFLICT (inbox) DO UPDATE SET followers = delivery_targets.followers + 1;
  END IF;
  IF old_target IS NOT NULL THEN
    UPDATE delivery_targets SET followers = followers - 1 WHERE inbox = old_target;
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "followers_targets" AFTER INSERT OR UPDATE OR DELETE ON "followers"
  FOR EACH ROW EXECUTE FUNCTION lectern_follower_targets();--> statement-breakpoint
-- Successes are counted by difference: what was queued less what remains (their rows go); nothing is marked
-- as being sent any more.
UPDATE "outgoing" SET "queued_all" = true,
  "queued" = "pruned_delivered" + "pruned_gone" + "pruned_failed" + "pruned_given_up"
    + (SELECT count(*) FROM "deliveries" d WHERE d."outgoing_id" = "outgoing"."id");--> statement-breakpoint
DELETE FROM "deliveries" WHERE "status" = 'delivered';--> statement-breakpoint
UPDATE "deliveries" SET "status" = 'pending' WHERE "status" = 'sending';
