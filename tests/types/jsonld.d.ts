// What the tests use of jsonld (no types ship with it): expansion with a document loader.
declare module "jsonld" {
  interface RemoteDocument {
    documentUrl: string;
    document: unknown;
  }
  const jsonld: {
    expand(input: unknown, options?: { documentLoader?: (url: string) => Promise<RemoteDocument> }): Promise<unknown[]>;
  };
  export default jsonld;
}
