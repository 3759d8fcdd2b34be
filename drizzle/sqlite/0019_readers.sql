CREATE TABLE `email_subscribers` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`address` text,
	`address_hash` text NOT NULL,
	`domain` text,
	`partition` integer DEFAULT 0 NOT NULL,
	`status` text NOT NULL,
	`cadence` text DEFAULT 'each' NOT NULL,
	`nonce` text,
	`confirm_sent_at` integer,
	`source` text NOT NULL,
	`created_at` integer NOT NULL,
	`confirmed_at` integer,
	`ended_at` integer,
	`sent_through` integer DEFAULT 0 NOT NULL,
	`due_at` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `email_subscribers_hash` ON `email_subscribers` (`address_hash`);--> statement-breakpoint
CREATE INDEX `email_subscribers_due` ON `email_subscribers` (`due_at`,`id`);--> statement-breakpoint
CREATE INDEX `email_subscribers_status` ON `email_subscribers` (`status`,`cadence`,`id`);--> statement-breakpoint
CREATE TABLE `push_subscriptions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`endpoint` text NOT NULL,
	`p256dh` text NOT NULL,
	`auth` text NOT NULL,
	`host` text NOT NULL,
	`partition` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`sent_through` integer DEFAULT 0 NOT NULL,
	`due_at` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `push_subscriptions_endpoint` ON `push_subscriptions` (`endpoint`);--> statement-breakpoint
CREATE INDEX `push_subscriptions_due` ON `push_subscriptions` (`due_at`,`id`);--> statement-breakpoint
CREATE TABLE `reader_fanouts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`post_id` text NOT NULL,
	`channel` text NOT NULL,
	`published_at` integer NOT NULL,
	`after_id` integer DEFAULT 0 NOT NULL,
	`queued_all` integer DEFAULT false NOT NULL,
	`queued` integer DEFAULT 0 NOT NULL,
	`sent` integer DEFAULT 0 NOT NULL,
	`failed` integer DEFAULT 0 NOT NULL,
	`suppressed` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `reader_fanouts_post` ON `reader_fanouts` (`post_id`,`channel`);--> statement-breakpoint
CREATE INDEX `reader_fanouts_open` ON `reader_fanouts` (`queued_all`,`id`);--> statement-breakpoint
CREATE TABLE `reader_keys` (
	`name` text PRIMARY KEY NOT NULL,
	`public_value` text DEFAULT '' NOT NULL,
	`secret` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `posts_queued` ON `posts` (`queued_at`);