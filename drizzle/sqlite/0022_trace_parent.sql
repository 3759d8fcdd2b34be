ALTER TABLE `outgoing` ADD `trace_parent` text;--> statement-breakpoint
ALTER TABLE `posts` ADD `trace_parent` text;