CREATE TABLE `drafts` (
	`staff_id` integer PRIMARY KEY NOT NULL,
	`text` text NOT NULL,
	`summary` text DEFAULT '' NOT NULL,
	`updated_at` integer NOT NULL
);
