/**
 * `.github/workflows/etl_dispatch.yml` checked by GitHub's own workflow parser
 * (@actions/workflow-parser, the parser of the Actions language services): valid, its `job`
 * input offers every job, runs are serialised per job, and inputs never reach a script inline.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { describe, expect, it } from 'vitest';
import { JOB_NAMES } from '../src/runner/job.js';

const FILE = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '.github',
  'workflows',
  'etl_dispatch.yml',
);

/** Parses and converts a workflow; returns the template and every error the parser reported. */
async function validate(content: string) {
  const parsed = parseWorkflow({ name: 'etl_dispatch.yml', content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (!parsed.value) return { errors, template: undefined };
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  return { errors: [...errors, ...(template.errors ?? []).map((e) => e.Message)], template };
}

describe('etl_dispatch.yml', () => {
  const content = readFileSync(FILE, 'utf8');

  it('is a valid workflow for GitHub’s parser', async () => {
    const { errors, template } = await validate(content);
    expect(errors).toEqual([]);
    expect(template?.jobs.map((j) => j.id.value)).toEqual(['run']);
  });

  it('the validator does catch broken workflows (so the check above means something)', async () => {
    expect((await validate(content.replace('runs-on:', 'runs_on:'))).errors.length).toBeGreaterThan(0);
    expect((await validate(content.replace('type: choice', 'type: dropdown'))).errors.length).toBeGreaterThan(
      0,
    );
  });

  it('is named "ETL Dispatch" and dispatched by hand with job, from and to', async () => {
    const { template } = await validate(content);
    const dispatch = template?.events.workflow_dispatch;
    expect(content).toMatch(/^name: ETL Dispatch$/m);
    expect(Object.keys(dispatch?.inputs ?? {})).toEqual(['job', 'from', 'to']);
    expect(dispatch?.inputs?.job?.type).toBe('choice');
    expect(dispatch?.inputs?.job?.options).toEqual([...JOB_NAMES]);
  });

  it('serialises dispatches per job and keeps inputs out of scripts', () => {
    expect(content).toMatch(
      /concurrency:\n {2}group: etl-dispatch-\$\{\{ inputs\.job \}\}\n {2}cancel-in-progress: false/,
    );
    // Every `run:` script reads inputs from the environment, never `${{ inputs.* }}` pasted in.
    const scripts = content
      .split('\n')
      .filter((l) => /^\s+(run:|\s{2,}\S)/.test(l) && !/^\s+\w[\w-]*:\s/.test(l.trim() ? l : ''));
    for (const line of content.split('\n')) {
      if (/^\s+run: /.test(line)) expect(line).not.toMatch(/\$\{\{\s*inputs\./);
    }
    expect(scripts.join('\n')).not.toMatch(/\$\{\{\s*inputs\./);
  });

  it('alerts the chat on failure with etl notify and runs on Node 20 with npm install', () => {
    expect(content).toMatch(/if: failure\(\)\n(?:.*\n)*?\s+npx etl notify /);
    expect(content).toMatch(/node-version: 20/);
    expect(content).toMatch(/run: npm install/);
    const commands = content.split('\n').filter((l) => !l.trimStart().startsWith('#'));
    expect(commands.join('\n')).not.toMatch(/npm ci/);
  });

  it('keeps secrets away from npm install and keeps the VK token store between dispatches', async () => {
    const { template } = await validate(content);
    const job = template?.jobs[0] as unknown as { env?: { toString(): string } };
    expect(JSON.stringify(job?.env ?? {})).not.toMatch(/secrets\./);
    const install = content.slice(content.indexOf('- name: Install'), content.indexOf('- name: Restore'));
    expect(install).not.toMatch(/secrets\./);
    expect(content).toMatch(/uses: actions\/cache@v4\n\s+with:\n\s+path: \.etl-state\/vk_ads_token\.json/);
    expect(content).toMatch(/ETL_DATA_DIR: \$\{\{ github\.workspace \}\}\/\.etl-state/);
  });
});
