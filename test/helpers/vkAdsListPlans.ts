/**
 * Child process for test/vkAds.client.test.ts: one "run" of the VK client in its own process.
 * Args: apiUrl clientId clientSecret tokenStorePath goFile. Prints "ready", waits until `goFile`
 * exists (so that several children start their first request together), then prints the number
 * of ad plans.
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createVkAdsClient } from '../../src/sources/vkAds/index.js';

const [apiUrl, clientId, clientSecret, tokenStorePath, goFile] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const client = createVkAdsClient({
  apiUrl,
  clientId,
  clientSecret,
  tokenStorePath,
  retry: { retries: 2, minDelayMs: 10, maxDelayMs: 40, attemptTimeoutMs: 5_000 },
});
process.stdout.write('ready\n');
for (let i = 0; i < 2000 && !existsSync(goFile); i++) await sleep(5);
const plans = await client.listAdPlans();
process.stdout.write(`${plans.length}\n`);
