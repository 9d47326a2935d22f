/**
 * The machine's trace records as a model (report/model.ts: spans, each
 * frame's journey, the stages' busy and waiting time, latency
 * percentiles) and as Chrome trace-event JSON (report/chrome-trace.ts,
 * what Perfetto UI and chrome://tracing open). Both the JSON and the HTML
 * report are drawn from the one model.
 */
export { traceModel } from './report/model.js';
export type * from './report/types.js';
export { chromeTrace, KERNEL_PID, type ChromeEvent, type ChromeTrace } from './report/chrome-trace.js';
