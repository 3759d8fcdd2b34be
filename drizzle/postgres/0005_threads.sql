ALTER TABLE "posts" ADD COLUMN "in_reply_to" text;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "thread_root" text;--> statement-breakpoint
CREATE INDEX "posts_thread" ON "posts" USING btree ("thread_root");