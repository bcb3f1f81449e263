import pkg from '../../../package.json';

/** shipkit's version, as the root package.json declares it. */
export const VERSION: string = pkg.version;
