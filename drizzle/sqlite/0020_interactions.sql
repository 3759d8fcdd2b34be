CREATE TABLE `authorizations` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`post_id` text,
	`interacting_iri` text NOT NULL,
	`actor_iri` text NOT NULL,
	`inbox` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `authorizations_interacting` ON `authorizations` (`kind`,`interacting_iri`);--> statement-breakpoint
CREATE INDEX `authorizations_post` ON `authorizations` (`post_id`);--> statement-breakpoint
ALTER TABLE `posts` ADD `likes` integer DEFAULT 0 NOT NULL;