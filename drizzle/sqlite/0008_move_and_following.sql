CREATE TABLE `following` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`actor_iri` text NOT NULL,
	`inbox` text NOT NULL,
	`follow_iri` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `following_actor_iri` ON `following` (`actor_iri`);--> statement-breakpoint
ALTER TABLE `profile` ADD `also_known_as` text;--> statement-breakpoint
ALTER TABLE `profile` ADD `moved_to` text;