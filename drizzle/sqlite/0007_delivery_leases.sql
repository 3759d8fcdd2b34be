CREATE TABLE `leases` (
	`name` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `deliveries` ADD `partition` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `owner` text;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `lease_until` integer;--> statement-breakpoint
CREATE INDEX `deliveries_partition` ON `deliveries` (`partition`,`status`,`next_attempt_at`);--> statement-breakpoint
UPDATE `deliveries` SET `partition` = lectern_partition(`host`, 64);