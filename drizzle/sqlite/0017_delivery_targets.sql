CREATE TABLE `delivery_targets` (
	`inbox` text PRIMARY KEY NOT NULL,
	`host` text NOT NULL,
	`partition` integer NOT NULL,
	`followers` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `delivery_targets_host` ON `delivery_targets` (`host`);--> statement-breakpoint
DROP INDEX `deliveries_partition`;--> statement-breakpoint
DROP INDEX `deliveries_host`;--> statement-breakpoint
DROP INDEX `deliveries_due`;--> statement-breakpoint
CREATE INDEX `deliveries_due` ON `deliveries` (`status`,`next_attempt_at`,`id`);--> statement-breakpoint
ALTER TABLE `leases` ADD `in_flight` integer;--> statement-breakpoint
ALTER TABLE `leases` ADD `delivered_last_minute` integer;--> statement-breakpoint
ALTER TABLE `outgoing` ADD `queued` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `outgoing` ADD `queued_all` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `outgoing` ADD `queued_after` text;--> statement-breakpoint
CREATE INDEX `outgoing_queueing` ON `outgoing` (`queued_all`,`id`);--> statement-breakpoint
-- Hand-written: the delivery targets built from today's followers, then kept by triggers (see tables.ts).
INSERT INTO `delivery_targets` (`inbox`, `host`, `partition`, `followers`)
  SELECT coalesce(`shared_inbox`, `inbox`), min(`host`), lectern_partition(min(`host`), 64), count(*)
  FROM `followers` WHERE `status` = 'accepted' GROUP BY coalesce(`shared_inbox`, `inbox`);--> statement-breakpoint
CREATE TRIGGER `followers_targets_insert` AFTER INSERT ON `followers` WHEN NEW.`status` = 'accepted'
BEGIN
  INSERT INTO `delivery_targets` (`inbox`, `host`, `partition`, `followers`)
    VALUES (coalesce(NEW.`shared_inbox`, NEW.`inbox`), NEW.`host`, lectern_partition(NEW.`host`, 64), 1)
    ON CONFLICT (`inbox`) DO UPDATE SET `followers` = `followers` + 1;
END;--> statement-breakpoint
CREATE TRIGGER `followers_targets_delete` AFTER DELETE ON `followers` WHEN OLD.`status` = 'accepted'
BEGIN
  UPDATE `delivery_targets` SET `followers` = `followers` - 1 WHERE `inbox` = coalesce(OLD.`shared_inbox`, OLD.`inbox`);
END;--> statement-breakpoint
CREATE TRIGGER `followers_targets_update` AFTER UPDATE OF `status`, `inbox`, `shared_inbox` ON `followers`
WHEN (OLD.`status` = 'accepted' OR NEW.`status` = 'accepted')
  AND (OLD.`status` IS NOT NEW.`status`
       OR coalesce(OLD.`shared_inbox`, OLD.`inbox`) IS NOT coalesce(NEW.`shared_inbox`, NEW.`inbox`))
BEGIN
  UPDATE `delivery_targets` SET `followers` = `followers` - 1
    WHERE OLD.`status` = 'accepted' AND `inbox` = coalesce(OLD.`shared_inbox`, OLD.`inbox`);
  INSERT INTO `delivery_targets` (`inbox`, `host`, `partition`, `followers`)
    SELECT coalesce(NEW.`shared_inbox`, NEW.`inbox`), NEW.`host`, lectern_partition(NEW.`host`, 64), 1
    WHERE NEW.`status` = 'accepted'
    ON CONFLICT (`inbox`) DO UPDATE SET `followers` = `followers` + 1;
END;--> statement-breakpoint
-- Successes are counted by difference: what was queued less what remains (their rows go); nothing is marked
-- as being sent any more.
UPDATE `outgoing` SET `queued_all` = true,
  `queued` = `pruned_delivered` + `pruned_gone` + `pruned_failed` + `pruned_given_up`
    + (SELECT count(*) FROM `deliveries` d WHERE d.`outgoing_id` = `outgoing`.`id`);--> statement-breakpoint
DELETE FROM `deliveries` WHERE `status` = 'delivered';--> statement-breakpoint
UPDATE `deliveries` SET `status` = 'pending' WHERE `status` = 'sending';
