// Injected by esbuild from package.json at build time; falls back for tests run from source.
declare const __EDGEPUSH_VERSION__: string | undefined;
export const VERSION: string = typeof __EDGEPUSH_VERSION__ === 'string' ? __EDGEPUSH_VERSION__ : '0.0.0-dev';
