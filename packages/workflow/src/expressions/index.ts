/**
 * GitHub Actions expressions (`${{ … }}`): the syntax (`syntax.ts`: parser, templates, what a
 * parsed expression reads) and the evaluation with GitHub's semantics (`evaluate.ts`).
 */
export * from './syntax';
export * from './evaluate';
