#!/usr/bin/env node
// The `lastseen` command. The project is TypeScript run directly through tsx's loader, so a
// fresh clone needs no build step: `npm install && npx lastseen --help`.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
