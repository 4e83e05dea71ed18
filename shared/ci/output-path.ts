/**
 * Output files checked before anything is created: GitLab's dotenv report (DOTENV_PATH), Bitbucket's
 * output-variables file (BITBUCKET_PIPELINES_VARIABLES_PATH), the GitHub runner's GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY. A folder, a path under a file, or a read-only place found here is an input
 * error naming the variable, given before the deploy; found only after it (a disk filled up
 * meanwhile), the write failure is reported as what it is by OutputWriteError, and the preview,
 * which exists, is not called failed.
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

import { ConfigError, type FieldIssue } from '../index.js';

/** One output file the job will write: the variable that names it and its path (absent: not written). */
export interface OutputFile {
  variable: string;
  path: string | undefined;
  /** The writer creates missing folders (GitLab's report); otherwise the folder must exist. */
  createsFolders?: boolean;
}

/**
 * Why `filePath` cannot be written, in a few words ("is a folder"), or `undefined` when it can
 * (an existing writable file, or a new file in a writable folder). Read-only checks only: nothing
 * is created.
 */
export function outputFileProblem(filePath: string, createsFolders = false): string | undefined {
  const absolute = path.resolve(filePath);
  try {
    const stat = statSync(absolute);
    if (stat.isDirectory()) return 'is a folder';
    accessSync(absolute, constants.W_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return 'is not writable';
    if (code === 'ENOTDIR') return 'lies under a file, not a folder';
    if (code !== 'ENOENT') return `cannot be checked (${code ?? 'unknown error'})`;
  }
  // A new file: the nearest existing folder above it decides.
  let folder = path.dirname(absolute);
  for (;;) {
    try {
      const stat = statSync(folder);
      if (!stat.isDirectory()) return `lies under ${folder}, which is a file`;
      if (folder !== path.dirname(absolute) && !createsFolders) return `is in a folder that does not exist`;
      accessSync(folder, constants.W_OK);
      return undefined;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
        return `is in a folder that is not writable`;
      if (code === 'ENOTDIR') return 'lies under a file, not a folder';
      if (code !== 'ENOENT') return `cannot be checked (${code ?? 'unknown error'})`;
      const parent = path.dirname(folder);
      if (parent === folder) return 'is in a folder that does not exist';
      folder = parent;
    }
  }
}

/**
 * Checks every output file before the job starts; throws one ConfigError naming each variable,
 * the path given (paths are not secrets) and what is valid.
 */
export function checkOutputFiles(files: readonly OutputFile[]): void {
  const issues: FieldIssue[] = [];
  for (const file of files) {
    if (file.path === undefined || file.path.trim() === '') continue;
    const problem = outputFileProblem(file.path, file.createsFolders);
    if (problem !== undefined) {
      issues.push({
        field: file.variable,
        message: `got "${file.path}", which ${problem}; expected a writable file path. Nothing was deployed.`,
      });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
}
