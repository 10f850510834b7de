import { parseBenchArgs, runIngestBench } from './ingest.ts';

/** `npm run bench`: the ingest fan-in benchmark (lastseen beside Debian's Mosquitto). */
await runIngestBench(parseBenchArgs(process.argv.slice(2)));
