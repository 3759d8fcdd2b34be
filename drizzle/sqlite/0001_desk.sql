CREATE TABLE `profile` (
	`id` integer PRIMARY KEY NOT NULL,
	`name` text,
	`summary` text,
	`bot` integer,
	`fields` text,
	`avatar_media_id` text,
	`header_media_id` text,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `scheduled_posts` (
	`id` text PRIMARY KEY NOT NULL,
	`source` text NOT NULL,
	`language` text NOT NULL,
	`summary` text,
	`sensitive` integer DEFAULT false NOT NULL,
	`publish_at` integer NOT NULL,
	`time_zone` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `scheduled_posts_due` ON `scheduled_posts` (`publish_at`);--> statement-breakpoint
CREATE TABLE `sessions` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`csrf_token` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sessions_expires` ON `sessions` (`expires_at`);--> statement-breakpoint
ALTER TABLE `posts` ADD `pinned_at` integer;--> statement-breakpoint
ALTER TABLE `posts` ADD `deleted_at` integer;