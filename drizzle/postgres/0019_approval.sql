ALTER TABLE "scheduled_posts" ADD COLUMN "review" text;--> statement-breakpoint
ALTER TABLE "scheduled_posts" ADD COLUMN "review_note" text;--> statement-breakpoint
ALTER TABLE "scheduled_posts" ADD COLUMN "author_id" bigint;