'use strict';
// The sample service's queue worker: no port, no load balancer; it waits for jobs until ECS
// stops it (SIGTERM). An image built with WORKER_STARTS=false is a release whose worker exits 1
// at start, the way a worker with a missing setting does.
const version = process.env.APP_VERSION || 'dev';
if (process.env.WORKER_STARTS === 'false') {
  console.error(`worker ${version}: cannot start: QUEUE_URL is not set`);
  process.exit(1);
}
console.log(`worker ${version}: started, waiting for jobs`);
const timer = setInterval(() => {}, 60_000);
process.on('SIGTERM', () => {
  clearInterval(timer);
  console.log(`worker ${version}: stopping`);
  process.exit(0);
});
