/**
 * The README's GitHub inputs and outputs tables, generated from github-action/action.yml so the
 * docs cannot drift from the metadata (metadata.test.ts fails when they differ).
 *
 *   npx tsx test/github-action/readme-usage.ts   # rewrites docs/github-action.md between the markers
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { parse } from 'yaml';
import { z } from 'zod';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../..');
export const actionYmlPath = path.join(repoRoot, 'github-action/action.yml');
/** The GitHub Action's doc, which holds the generated tables (README.md has the quick start only). */
export const readmePath = path.join(repoRoot, 'docs/github-action.md');

export const BEGIN = '<!-- generated:github-usage (npx tsx test/github-action/readme-usage.ts) -->';
export const END = '<!-- /generated:github-usage -->';

/** Inputs of the official codesphere-cloud/gh-action-deploy, kept with the same names and defaults. */
export const OFFICIAL_INPUTS = [
  'email',
  'password',
  'team',
  'plan',
  'onDemand',
  'restricted',
  'cloneDepth',
  'env',
  'vpnConfig',
  'apiUrl',
];

const actionSchema = z.object({
  inputs: z.record(
    z.string(),
    z.object({
      description: z.string(),
      required: z.boolean().optional(),
      default: z.union([z.string(), z.number(), z.boolean()]).optional(),
    }),
  ),
  outputs: z.record(z.string(), z.object({ description: z.string() })),
  runs: z.object({ using: z.string(), main: z.string() }),
});
export type ActionMetadata = z.infer<typeof actionSchema>;

export function readActionMetadata(text = readFileSync(actionYmlPath, 'utf8')): ActionMetadata {
  return actionSchema.parse(parse(text));
}

function cell(text: string): string {
  return text
    .trim()
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|');
}

/** The block as prettier formats it, since README.md is checked with prettier in CI. */
export async function renderUsage(metadata: ActionMetadata): Promise<string> {
  const options = (await resolveConfig(readmePath)) ?? {};
  const formatted = await format(renderRaw(metadata), { ...options, parser: 'markdown' });
  return formatted.trimEnd();
}

function renderRaw(metadata: ActionMetadata): string {
  const inputs = Object.entries(metadata.inputs).map(([name, input]) => {
    const fallback = input.default === undefined ? '' : `\`${String(input.default)}\``;
    const origin = OFFICIAL_INPUTS.includes(name) ? 'official' : 'new';
    return `| \`${name}\` | ${input.required ? 'yes' : 'no'} | ${fallback} | ${origin} | ${cell(input.description)} |`;
  });
  const outputs = Object.entries(metadata.outputs).map(
    ([name, output]) => `| \`${name}\` | ${cell(output.description)} |`,
  );
  return [
    BEGIN,
    '',
    '#### Inputs',
    '',
    '"official": same name and default as in `codesphere-cloud/gh-action-deploy`.',
    '',
    '| Input | Required | Default | Origin | Description |',
    '| --- | --- | --- | --- | --- |',
    ...inputs,
    '',
    '#### Outputs',
    '',
    '| Output | Description |',
    '| --- | --- |',
    ...outputs,
    '',
    `Runs on \`${metadata.runs.using}\` from \`${metadata.runs.main}\`.`,
    '',
    END,
  ].join('\n');
}

/** The README with the generated block replaced (throws when the markers are missing). */
export function updateReadme(readme: string, usage: string): string {
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`README.md lacks the markers ${BEGIN} ... ${END}`);
  return readme.slice(0, begin) + usage + readme.slice(end + END.length);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const readme = readFileSync(readmePath, 'utf8');
  const updated = updateReadme(readme, await renderUsage(readActionMetadata()));
  if (updated === readme) console.log('docs/github-action.md: GitHub usage tables already up to date.');
  else {
    writeFileSync(readmePath, updated);
    console.log('docs/github-action.md: GitHub usage tables regenerated from github-action/action.yml.');
  }
}
