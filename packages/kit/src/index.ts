/** What every shipkit action shares: inputs, errors, the run wrapper, polling, AWS options, summaries. */
export * from './errors';
export * from './duration';
export * from './inputs';
export * from './poll';
export * from './aws';
export * from './run';
export * from './summary';
export * from './redact';
export * from './log-text';
export * from './github-deployments';
export { VERSION } from './version';
