CREATE TABLE `server_samples` (
	`at` integer PRIMARY KEY NOT NULL,
	`due` integer NOT NULL,
	`retrying` integer NOT NULL,
	`delivered` integer NOT NULL,
	`failed` integer NOT NULL,
	`workers` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `servers` ADD `last_error` text;