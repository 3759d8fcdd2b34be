ALTER TABLE "post_versions" ADD COLUMN "title" text;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "title" text;--> statement-breakpoint
ALTER TABLE "scheduled_posts" ADD COLUMN "title" text;