#!/usr/bin/env node
/**
 * The installed `smtp-inspect` program: a CommonJS entry so that the thread pool is sized before
 * the ES module loader starts it (thread-pool.cts), then the command line proper (main.ts).
 */
import { sizeThreadPoolForReads } from '../capture/thread-pool.cjs';

sizeThreadPoolForReads();
void import('./main.js');
