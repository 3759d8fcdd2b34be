ALTER TABLE `scheduled_posts` ADD `review` text;--> statement-breakpoint
ALTER TABLE `scheduled_posts` ADD `review_note` text;--> statement-breakpoint
ALTER TABLE `scheduled_posts` ADD `author_id` integer;