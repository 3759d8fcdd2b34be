CREATE TABLE `media` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`media_type` text NOT NULL,
	`file` text NOT NULL,
	`size` integer NOT NULL,
	`width` integer,
	`height` integer,
	`duration_ms` integer,
	`blurhash` text,
	`preview_file` text,
	`preview_width` integer,
	`preview_height` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `posts` ADD `attachments` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `scheduled_posts` ADD `attachments` text DEFAULT '[]' NOT NULL;