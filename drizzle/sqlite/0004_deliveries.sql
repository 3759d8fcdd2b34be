CREATE TABLE `deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`outgoing_id` integer NOT NULL,
	`post_id` text,
	`inbox` text NOT NULL,
	`host` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`last_status` integer,
	`last_error` text,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `deliveries_due` ON `deliveries` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `deliveries_outgoing` ON `deliveries` (`outgoing_id`,`status`);--> statement-breakpoint
CREATE INDEX `deliveries_order` ON `deliveries` (`inbox`,`post_id`,`id`);--> statement-breakpoint
CREATE INDEX `deliveries_host` ON `deliveries` (`host`,`status`);--> statement-breakpoint
CREATE TABLE `outgoing` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`activity_iri` text NOT NULL,
	`kind` text NOT NULL,
	`post_id` text,
	`body` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `outgoing_post` ON `outgoing` (`post_id`);--> statement-breakpoint
CREATE TABLE `servers` (
	`host` text PRIMARY KEY NOT NULL,
	`failing_since` integer,
	`failure_days` integer DEFAULT 0 NOT NULL,
	`last_failure_day` integer,
	`last_success_at` integer,
	`probe_at` integer,
	`signature` text DEFAULT 'cavage' NOT NULL
);
