import { countPosts } from "../product/posts.ts";
import { LECTERN_VERSION } from "../shared/version.ts";
import { builder } from "./builder.ts";

builder.setNodeInfoDispatcher("/nodeinfo/2.1", async (ctx) => {
  return {
    software: { name: "lectern", version: LECTERN_VERSION, homepage: ctx.data.config.origin },
    protocols: ["activitypub"],
    openRegistrations: false,
    usage: {
      users: { total: 1, activeMonth: 1, activeHalfyear: 1 },
      localPosts: await countPosts(ctx.data.db),
      localComments: 0,
    },
    metadata: { nodeName: ctx.data.config.profile.name, singleUser: true },
  };
});
