/** Container images: tag templates, ECR login and tagging, an OCI registry client, builders. */
export * from './reference';
export * from './tags';
export * from './registry';
export * from './copy';
export * from './ecr';
export * from './publish';
export * from './builder';
export * from './buildah';
export * from './buildx';
export * from './exec';
