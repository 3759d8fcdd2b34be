/*
 * The activity types the inbox acts on, named once: the inbox registers a
 * listener for each (inbox.ts, LISTENERS) and triage decides for each whether
 * it reaches its listener (triage.ts, TRIAGE). Both are records over this
 * list, so a type cannot be listened for and dropped by triage, or let
 * through triage with nobody listening. Every other type is chatter: 202,
 * nothing done.
 */
export const INBOUND_TYPES = [
  "Follow",
  "Undo",
  "Delete",
  "Create",
  "ReplyRequest",
  "QuoteRequest",
  "AnnounceRequest",
  "LikeRequest",
  "Like",
  "Announce",
  "Update",
  "Accept",
  "Reject",
  "Move",
] as const;

export type InboundType = (typeof INBOUND_TYPES)[number];

export function isInbound(type: string): type is InboundType {
  return (INBOUND_TYPES as readonly string[]).includes(type);
}
