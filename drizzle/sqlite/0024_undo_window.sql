ALTER TABLE `scheduled_posts` ADD `held` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `scheduled_posts` ADD `in_reply_to` text;