ALTER TABLE `posts` ADD `in_reply_to` text;--> statement-breakpoint
ALTER TABLE `posts` ADD `thread_root` text;--> statement-breakpoint
CREATE INDEX `posts_thread` ON `posts` (`thread_root`);