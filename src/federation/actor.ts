import type { Context } from "@fedify/fedify";
import { Endpoints, Image, Person, PropertyValue, Service } from "@fedify/vocab";
import type { AppData } from "../product/context.ts";
import { actorCreatedAt } from "../product/instance.ts";
import { getActorKeyPairs } from "../product/keys.ts";
import { getMedia } from "../product/media.ts";
import { fieldValueHtml, getProfile } from "../product/profile.ts";
import { Temporal } from "../shared/temporal.ts";
import { PATHS } from "../shared/urls.ts";
import { builder } from "./builder.ts";

builder
  .setActorDispatcher(PATHS.actor, async (ctx, identifier) => {
    if (identifier !== ctx.data.config.handle) return null;
    return await actorFromProfile(ctx);
  })
  .setKeyPairsDispatcher(async (ctx, identifier) => {
    if (identifier !== ctx.data.config.handle) return [];
    return await getActorKeyPairs(ctx.data);
  })
  .mapHandle((ctx, username) =>
    username.toLowerCase() === ctx.data.config.handle.toLowerCase() ? ctx.data.config.handle : null,
  );

/** The one actor, as ActivityPub sees it. */
export async function actorFromProfile(ctx: Context<AppData>): Promise<Person | Service> {
  const { config, db } = ctx.data;
  const identifier = config.handle;
  const keys = await ctx.getActorKeyPairs(identifier);
  const profile = await getProfile(ctx.data);
  const pictures = await getMedia(
    ctx.data,
    [profile.avatarMediaId, profile.headerMediaId].filter((x): x is string => x !== null),
  );
  const picture = (id: string | null) => {
    const m = id === null ? undefined : pictures.get(id);
    return m === undefined
      ? null
      : new Image({ url: ctx.data.urls.media(m.file), mediaType: m.mediaType, width: m.width, height: m.height });
  };
  const values = {
    icon: picture(profile.avatarMediaId),
    image: picture(profile.headerMediaId),
    id: ctx.getActorUri(identifier),
    preferredUsername: identifier,
    name: profile.name,
    summary: profile.summaryHtml || null,
    attachments: profile.fields.map((f) => new PropertyValue({ name: f.name, value: fieldValueHtml(f.value) })),
    url: deskUrl(ctx.data),
    published: Temporal.Instant.fromEpochMilliseconds(await actorCreatedAt(db)),
    updated: profile.updatedAt === null ? null : Temporal.Instant.fromEpochMilliseconds(profile.updatedAt),
    manuallyApprovesFollowers: profile.approveFollowers,
    aliases: profile.aliases.map((a) => new URL(a)),
    successor: profile.movedTo === null ? null : new URL(profile.movedTo),
    discoverable: true,
    indexable: true,
    inbox: ctx.getInboxUri(identifier),
    endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
    outbox: ctx.getOutboxUri(identifier),
    followers: ctx.getFollowersUri(identifier),
    following: ctx.getFollowingUri(identifier),
    featured: ctx.getFeaturedUri(identifier),
    publicKey: keys[0]?.cryptographicKey,
    assertionMethods: keys.map((k) => k.multikey),
  };
  return profile.bot ? new Service(values) : new Person(values);
}

/** The author's public page for browsers. */
export function deskUrl(data: AppData): URL {
  return new URL(`/@${data.config.handle}`, data.config.origin);
}
