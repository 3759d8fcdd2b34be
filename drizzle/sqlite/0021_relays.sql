CREATE TABLE `relays` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`url` text NOT NULL,
	`style` text NOT NULL,
	`actor_iri` text,
	`inbox` text NOT NULL,
	`follow_iri` text NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `relays_url` ON `relays` (`url`);--> statement-breakpoint
CREATE UNIQUE INDEX `relays_follow` ON `relays` (`follow_iri`);