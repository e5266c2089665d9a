/** Per output: the task its metrics fit, why, and each figure with its 95% interval (text for the CLI and the Markdown report). */
import { figureText } from '../eval/budgets';
import type { TaskOutput } from '../eval/taskMetrics';

export function taskFigures(t: TaskOutput): string {
  const said = new Set<string>();
  // A reason for measuring nothing is said once per output; later figures it blanks only say so.
  const unmeasured = (reason: string): string => (said.has(reason) ? 'nothing to measure' : (said.add(reason), reason));
  return t.figures
    .map((f) => f.unmeasured ? `${f.name}: ${unmeasured(f.unmeasured)}` : `${f.name} ${figureText(f.value, f.scale)}${f.ci95 ? ` [${figureText(f.ci95[0], f.scale)}, ${figureText(f.ci95[1], f.scale)}]` : ''}`)
    .join(', ');
}

/** Two lines per output: "NAME: TASK, because WHY" and its figures. */
export function tasksText(tasks: readonly TaskOutput[]): string[] {
  return tasks.flatMap((t) => [`${t.name}: ${t.task} (${t.why})`, `  ${taskFigures(t)}`]);
}
