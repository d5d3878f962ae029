/** The file-backed token store: see store.ts. */
export { createFileTokenStore, defaultTokenCacheDir, type FileTokenStoreOptions } from './store.ts';
