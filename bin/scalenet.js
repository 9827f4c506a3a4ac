#!/usr/bin/env node
// Runs the TypeScript CLI directly (no build step), so `npx scalenet` works right after `npm ci`.
require('tsx/cjs/api').register();
require('../cli/main.ts').run();
