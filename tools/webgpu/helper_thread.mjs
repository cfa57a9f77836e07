// One of the page's CPU helper workers on a Node worker thread (globals.mjs's `Worker`): the page's worker.js,
// imported as it is, speaking over the thread's port as a Web Worker speaks over its own.
import { parentPort, workerData } from 'node:worker_threads';
import { deliver, installWorkerGlobals } from './globals.mjs';

installWorkerGlobals({ workerUrl: workerData.url, post: (message, transfer) => parentPort.postMessage(message, (transfer ?? []).filter((t) => t instanceof ArrayBuffer)) });
await import(workerData.url);
parentPort.on('message', deliver);
