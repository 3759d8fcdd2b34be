CREATE TABLE `actor_keys` (
	`algorithm` text PRIMARY KEY NOT NULL,
	`public_jwk` text NOT NULL,
	`private_jwk` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `followers` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`actor_iri` text NOT NULL,
	`follow_iri` text,
	`inbox` text NOT NULL,
	`shared_inbox` text,
	`host` text NOT NULL,
	`handle` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `followers_actor_iri` ON `followers` (`actor_iri`);--> statement-breakpoint
CREATE INDEX `followers_host` ON `followers` (`host`);--> statement-breakpoint
CREATE TABLE `instance` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `kv` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`expires_at` integer
);
--> statement-breakpoint
CREATE INDEX `kv_expires` ON `kv` (`expires_at`);--> statement-breakpoint
CREATE TABLE `posts` (
	`id` text PRIMARY KEY NOT NULL,
	`source` text NOT NULL,
	`content_html` text NOT NULL,
	`language` text NOT NULL,
	`summary` text,
	`sensitive` integer DEFAULT false NOT NULL,
	`hashtags` text DEFAULT '[]' NOT NULL,
	`published_at` integer NOT NULL,
	`updated_at` integer,
	`queued_at` integer
);
--> statement-breakpoint
CREATE INDEX `posts_published` ON `posts` (`published_at`,`id`);--> statement-breakpoint
CREATE TABLE `queue` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`payload` text NOT NULL,
	`ordering_key` text,
	`run_at` integer NOT NULL,
	`locked_until` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `queue_ready` ON `queue` (`run_at`,`id`);--> statement-breakpoint
CREATE INDEX `queue_ordering` ON `queue` (`ordering_key`);