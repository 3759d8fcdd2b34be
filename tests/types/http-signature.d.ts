declare module "http-signature";
