/**
 * Generates the "YAML Definition" snippet and the "Variables" table of bitbucket-pipe/README.md
 * from pipe.yml, so the pipe's docs cannot drift from its metadata (actions/checkout generates
 * its usage from action.yml the same way).
 *
 *   npx tsx test/bitbucket-pipe/pipe-readme.ts --write   # rewrite the generated blocks
 *   npx tsx test/bitbucket-pipe/pipe-readme.ts           # exit 1 if README.md is stale
 *
 * The test suite calls `readmeIsCurrent()`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { parse } from 'yaml';
import { z } from 'zod';

export const pipeDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bitbucket-pipe');
export const pipeYmlPath = path.join(pipeDir, 'pipe.yml');
export const pipeReadmePath = path.join(pipeDir, 'README.md');

const variableSchema = z.object({
  name: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
  description: z.string().min(1),
  default: z.string().optional(),
  /** Absent: a string. */
  type: z.enum(['boolean', 'integer', 'number']).optional(),
  /** true: always required; "credentials": one of API_TOKEN or EMAIL + PASSWORD. */
  required: z.union([z.literal(true), z.literal('credentials')]).optional(),
  secret: z.boolean().optional(),
});

export const pipeYmlSchema = z.object({
  name: z.string().min(1),
  image: z.string().regex(/^[a-z0-9./-]+:[0-9]+\.[0-9]+\.[0-9]+$/, 'a pinned image:tag'),
  category: z.string().min(1),
  description: z.string().min(1),
  repository: z.url(),
  vendor: z.object({ name: z.string(), website: z.url() }),
  maintainer: z.object({ name: z.string(), website: z.url() }),
  tags: z.array(z.string()).min(1),
  variables: z.array(variableSchema).min(1),
});
export type PipeYml = z.infer<typeof pipeYmlSchema>;

export function readPipeYml(): PipeYml {
  return pipeYmlSchema.parse(parse(readFileSync(pipeYmlPath, 'utf8')));
}

/** How the pipe is referenced: by its image, which works without publishing to Atlassian's pipe list. */
export function pipeReference(pipe: PipeYml): string {
  return `docker://${pipe.image}`;
}

function placeholder(variable: PipeYml['variables'][number]): string {
  if (!variable.secret) return `'<${variable.type ?? 'string'}>'`;
  // Secrets come from secured repository variables, never literals in the YAML.
  return variable.name === 'ACCESS_TOKEN' ? '$BITBUCKET_ACCESS_TOKEN' : `$CODESPHERE_${variable.name}`;
}

export function renderYamlDefinition(pipe: PipeYml): string {
  const lines = ['```yaml', `- pipe: ${pipeReference(pipe)}`, '  variables:'];
  let credentialShown = false;
  for (const variable of pipe.variables) {
    const value = `${variable.name}: ${placeholder(variable)}`;
    if (variable.required === true) {
      lines.push(`    ${value}`);
    } else if (variable.required === 'credentials' && !credentialShown) {
      credentialShown = true;
      lines.push(`    ${value} # Or EMAIL and PASSWORD.`);
    } else if (variable.required === 'credentials') {
      lines.push(`    # ${value} # Instead of API_TOKEN.`);
    } else {
      lines.push(`    # ${value} # Optional.`);
    }
  }
  lines.push('```');
  return lines.join('\n');
}

export function renderVariablesTable(pipe: PipeYml): string {
  const mark = (variable: PipeYml['variables'][number]) =>
    variable.required === true ? ' (*)' : variable.required === 'credentials' ? ' (**)' : '';
  const rows = pipe.variables.map((variable) => {
    const text =
      variable.default === undefined
        ? variable.description
        : `${variable.description} Default: \`${variable.default}\`.`;
    return `| ${variable.name}${mark(variable)} | ${text.replace(/\|/g, '\\|')} |`;
  });
  return [
    '| Variable | Usage |',
    '| --- | --- |',
    ...rows,
    '',
    '_(*) = required variable. (**) = `API_TOKEN`, or `EMAIL` and `PASSWORD`, is required._',
  ].join('\n');
}

const BLOCKS: Record<string, (pipe: PipeYml) => string> = {
  'yaml-definition': renderYamlDefinition,
  variables: renderVariablesTable,
};

function replaceBlock(readme: string, name: string, content: string): string {
  const start = `<!-- generated:${name} (from pipe.yml by test/bitbucket-pipe/pipe-readme.ts) -->`;
  const end = `<!-- /generated:${name} -->`;
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md lacks the ${start} ... ${end} block`);
  return `${readme.slice(0, from + start.length)}\n${content}\n${readme.slice(to)}`;
}

export function renderReadme(readme: string, pipe: PipeYml): string {
  return Object.entries(BLOCKS).reduce(
    (text, [name, render]) => replaceBlock(text, name, render(pipe)),
    readme,
  );
}

/** README.md as the generator and the repository's formatter (prettier, which aligns tables) leave it. */
export async function expectedReadme(readme: string, pipe: PipeYml): Promise<string> {
  const options = (await resolveConfig(pipeReadmePath)) ?? {};
  return format(renderReadme(readme, pipe), { ...options, filepath: pipeReadmePath });
}

/** True when README.md's generated blocks match pipe.yml. */
export async function readmeIsCurrent(): Promise<boolean> {
  const readme = readFileSync(pipeReadmePath, 'utf8');
  return (await expectedReadme(readme, readPipeYml())) === readme;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const readme = readFileSync(pipeReadmePath, 'utf8');
  const expected = await expectedReadme(readme, readPipeYml());
  if (process.argv.includes('--write')) {
    writeFileSync(pipeReadmePath, expected);
    console.log(`updated ${path.relative(process.cwd(), pipeReadmePath)}`);
  } else {
    console.log(expected === readme ? 'README.md is up to date' : 'README.md is stale: run with --write');
    process.exitCode = expected === readme ? 0 : 1;
  }
}
