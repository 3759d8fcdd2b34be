CREATE TABLE "drafts" (
	"staff_id" bigint PRIMARY KEY NOT NULL,
	"text" text NOT NULL,
	"summary" text DEFAULT '' NOT NULL,
	"updated_at" bigint NOT NULL
);
