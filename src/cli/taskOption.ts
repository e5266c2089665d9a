/** `--task`: `lm`, a task for every output (`--task mask`), or one output's (`--task OUTPUT=mask`). */
import { TASKS, type Task } from '../eval/taskChoice';

export type TaskOption = { readonly lm: true } | { readonly lm: false; readonly outputs: Record<string, Task> };

export function parseTask(text: string | undefined): TaskOption | string {
  const m = /^(?:(.+)=)?([a-z]+)$/.exec(text ?? '');
  const choices = `lm, ${TASKS.join(', ')}`;
  if (!m) return `--task needs one of ${choices} (OUTPUT=TASK for one output)`;
  const [, output, task] = m;
  if (task === 'lm') return output ? `--task lm is for the whole model, not one output: give --task lm, not --task ${output}=lm` : { lm: true };
  if (!(TASKS as readonly string[]).includes(task)) return `--task ${task} is not a task: give one of ${output ? TASKS.join(', ') : choices}`;
  return { lm: false, outputs: { [output ?? '*']: task as Task } };
}
