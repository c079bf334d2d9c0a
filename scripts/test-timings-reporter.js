'use strict';
/**
 * A node:test reporter for `npm test` (scripts/test.js): the duration of each test file (each top-level
 * suite, named after its file), written as one JSON object when the run ends.
 */
module.exports = async function* testTimings(source) {
  const timings = {};
  for await (const event of source) {
    // Nesting 0 also holds the processes' entries (a timed-out one fails as a whole): only the files count.
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.nesting === 0 && event.data.name.endsWith('.ts')) {
      timings[event.data.name] = Math.round(event.data.details.duration_ms);
    }
  }
  yield JSON.stringify(timings);
};
