/**
 * Echo's version, kept here rather than read from `package.json` so that a deployment needs no
 * file access (`lib/info/version_test.ts` keeps the two equal).
 *
 * @module
 */

/** The version `/info` reports. */
export const VERSION = "0.1.0";
