/**
 * What the change request's comment shows of a failed stage's log: the failing step's last
 * NOTE_TAIL_LINES lines in a code block, while the error message (job log, deployment status)
 * keeps its longer quote. Shared by the three adapters' comment renderers.
 */
import {
  findCause,
  NOTE_TAIL_LINES,
  PrivateTargetsFailedError,
  stageLogTailOf,
  type TargetGrid,
} from '../index.js';

/** A log excerpt for a comment: a title and the lines, oldest first (the caller redacts). */
export interface CommentLogTail {
  title: string;
  lines: string[];
}

/**
 * Splits a failure for a comment: the message without the error's long log quote, and the last
 * NOTE_TAIL_LINES lines of the failing step when the error carries them.
 * @param error what the job threw (its cause chain is searched for a stage log tail)
 * @param message the failure message as the adapter words it (already redacted or not)
 */
export function failureForComment(
  error: unknown,
  message: string,
): { message: string; logTail?: CommentLogTail | undefined; targetGrid?: TargetGrid | undefined } {
  // The private targets' grid says more than the message's list: which replica failed which target.
  const failedTargets = findCause(error, PrivateTargetsFailedError);
  if (failedTargets) return { message, targetGrid: failedTargets.grid };
  const found = stageLogTailOf(error);
  if (!found) return { message };
  const { tail, quoted } = found;
  const lines = tail.lines.slice(-NOTE_TAIL_LINES);
  return {
    message: message.replace(quoted, ''),
    logTail: {
      title: `Last ${lines.length} of ${tail.totalLines} line(s) of ${tail.stage} step ${tail.step + 1}`,
      lines,
    },
  };
}

/** The excerpt as Markdown: a title line and a fenced block no log line can close early. */
export function renderLogTail(tail: CommentLogTail): string[] {
  return [`**${tail.title}:**`, '', '```text', ...tail.lines.map((l) => l.replace(/```/g, "'''")), '```'];
}
