ALTER TABLE `outgoing` ADD `pruned_delivered` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `outgoing` ADD `pruned_gone` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `outgoing` ADD `pruned_failed` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `outgoing` ADD `pruned_given_up` integer DEFAULT 0 NOT NULL;