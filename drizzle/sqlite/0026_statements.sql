ALTER TABLE `post_versions` ADD `title` text;--> statement-breakpoint
ALTER TABLE `posts` ADD `title` text;--> statement-breakpoint
ALTER TABLE `scheduled_posts` ADD `title` text;