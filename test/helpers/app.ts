/**
 * An application wired to the local sandbox upstreams and a fresh embedded ClickHouse, as the
 * CLI would build it (same openApp, same production clients).
 */
import { openApp, type App } from '../../src/app/openApp.js';
import type { Config } from '../../src/config/loadConfig.js';
import { loadConfig } from '../../src/config/loadConfig.js';
import {
  startQticketsSandbox,
  type QticketsSandbox,
  type QticketsSandboxOptions,
} from '../../src/sandbox/qticketsSandbox.js';
import {
  startVkAdsSandbox,
  type VkAdsSandbox,
  type VkAdsSandboxOptions,
} from '../../src/sandbox/vkAdsSandbox.js';
import { silentLogger, testEnv } from './env.js';
import { createRecordingNotifier } from './recordingNotifier.js';

/** Sandboxes, the config that points at them, and an opened app. */
export interface SandboxApp {
  vk: VkAdsSandbox;
  qt: QticketsSandbox;
  env: Record<string, string>;
  config: Config;
  app: App;
  close(): Promise<void>;
}

/** Starts both sandboxes and opens the app on an embedded ClickHouse under `root`. */
export async function startSandboxApp(
  root: string,
  options: { vk?: VkAdsSandboxOptions; qt?: QticketsSandboxOptions; env?: Record<string, string> } = {},
): Promise<SandboxApp> {
  const vk = await startVkAdsSandbox({ seed: 7, ...options.vk });
  const qt = await startQticketsSandbox({ seed: 7, ...options.qt });
  const env = testEnv(root, {
    VK_ADS_API_URL: vk.url,
    VK_ADS_CLIENT_ID: vk.clientId,
    VK_ADS_CLIENT_SECRET: vk.clientSecret,
    QTICKETS_API_URL: qt.url,
    QTICKETS_TOKEN: qt.token,
    HTTP_RETRIES: '3',
    ...options.env,
  });
  const config = loadConfig(env);
  const app = await openApp({
    config,
    logger: silentLogger,
    owner: 'test',
    schema: 'apply',
    notifier: createRecordingNotifier(),
  });
  return {
    vk,
    qt,
    env,
    config,
    app,
    async close() {
      await app.close();
      await Promise.allSettled([vk.close(), qt.close()]);
    },
  };
}
