ALTER TABLE "outgoing" ADD COLUMN "trace_parent" text;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "trace_parent" text;