import {
  type AuthenticatedDocumentLoaderFactory,
  type DocumentLoader,
  type DocumentLoaderFactory,
  type KvStore,
  kvCache,
  signRequest,
} from "@fedify/fedify";
import { FetchError, preloadedContexts } from "@fedify/vocab-runtime";
import { fetchDocument, fetchOptions } from "../shared/http-client.ts";

const ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"';
/** An actor, a key, a Note or a JSON-LD context: a megabyte is plenty. */
const MAX_DOCUMENT = 1024 * 1024;

/**
 * Fedify's document loaders (actors, keys, objects, JSON-LD contexts; plain
 * and signed) through Lectern's guarded client: each address checked after
 * resolution (IPv4-mapped and NAT64 forms included), each redirect checked
 * again, a timeout and a size limit, Lectern's User-Agent. Documents are
 * cached in the key-value store as Fedify's own loaders are; the usual
 * JSON-LD contexts come preloaded and are never fetched. Used whenever
 * private addresses are not allowed (Fedify takes no custom loader then).
 */
export function guardedLoaders(
  config: { allowPrivateAddress: boolean; origin: URL },
  kv: KvStore,
): {
  documentLoaderFactory: DocumentLoaderFactory;
  contextLoaderFactory: DocumentLoaderFactory;
  authenticatedDocumentLoaderFactory: AuthenticatedDocumentLoaderFactory;
} {
  const base = { ...fetchOptions(config, ACCEPT), maxBytes: MAX_DOCUMENT };
  const loader =
    (sign?: (r: Request) => Promise<Request>): DocumentLoader =>
    async (url) => {
      if (Object.hasOwn(preloadedContexts, url)) {
        return { contextUrl: null, documentUrl: url, document: preloadedContexts[url] };
      }
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new FetchError(url, `not a URL: ${url}`);
      }
      const got = await fetchDocument(parsed, { ...base, sign });
      if (got.status !== 200 || got.body === undefined) {
        throw new FetchError(
          url,
          got.refused !== undefined ? `refused: ${got.refused}` : `HTTP ${got.status || "no answer"}: ${url}`,
        );
      }
      return { contextUrl: null, documentUrl: (got.url ?? parsed).href, document: got.body };
    };
  const cached = (kind: "object" | "context", l: DocumentLoader) =>
    kvCache({ loader: l, kv, prefix: ["_fedify", "remoteDocument"], kind });
  return {
    documentLoaderFactory: () => cached("object", loader()),
    contextLoaderFactory: () => cached("context", loader()),
    // Signed fetches are not cached: what a server shows a signer may differ.
    authenticatedDocumentLoaderFactory: (identity) =>
      loader((request) =>
        signRequest(request, identity.privateKey, identity.keyId, { spec: "draft-cavage-http-signatures-12" }),
      ),
  };
}
