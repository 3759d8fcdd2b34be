CREATE TABLE `blocks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`value` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `blocks_kind_value` ON `blocks` (`kind`,`value`);--> statement-breakpoint
CREATE TABLE `quote_stamps` (
	`id` text PRIMARY KEY NOT NULL,
	`post_id` text NOT NULL,
	`quote_iri` text NOT NULL,
	`actor_iri` text NOT NULL,
	`inbox` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `quote_stamps_post` ON `quote_stamps` (`post_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `quote_stamps_quote` ON `quote_stamps` (`post_id`,`quote_iri`);--> statement-breakpoint
ALTER TABLE `followers` ADD `status` text DEFAULT 'accepted' NOT NULL;--> statement-breakpoint
CREATE INDEX `followers_status` ON `followers` (`status`);--> statement-breakpoint
ALTER TABLE `posts` ADD `boosts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `profile` ADD `approve_followers` integer;