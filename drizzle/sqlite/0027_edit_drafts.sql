CREATE TABLE `edit_drafts` (
	`post_id` text PRIMARY KEY NOT NULL,
	`staff_id` integer,
	`title` text,
	`source` text NOT NULL,
	`summary` text,
	`sensitive` integer DEFAULT false NOT NULL,
	`language` text NOT NULL,
	`attachments` text DEFAULT '[]' NOT NULL,
	`updated_at` integer NOT NULL
);
